"""Single sign-on: identity providers per agency (slot reserved).

Revision ID: 7a3c4e5f6b07
Revises: 6f2b3d4e5a06
Create Date: 2026-11-30 05:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a3c4e5f6b07'
down_revision = '6f2b3d4e5a06'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
