"""System accounts and their client secrets (slot reserved).

Revision ID: 5e1a2c3d4f05
Revises: 4b7d1f2e8c04
Create Date: 2026-11-30 05:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1a2c3d4f05'
down_revision = '4b7d1f2e8c04'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
