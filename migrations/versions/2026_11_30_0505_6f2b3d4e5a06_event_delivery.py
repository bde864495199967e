"""Events, subscriptions and deliveries (slot reserved).

Revision ID: 6f2b3d4e5a06
Revises: 5e1a2c3d4f05
Create Date: 2026-11-30 05:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6f2b3d4e5a06'
down_revision = '5e1a2c3d4f05'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
