"""Information sharing agreements (slot reserved).

Revision ID: 3a9e1e7b9b03
Revises: 2c0e5e7a9b02
Create Date: 2026-11-30 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3a9e1e7b9b03'
down_revision = '2c0e5e7a9b02'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
