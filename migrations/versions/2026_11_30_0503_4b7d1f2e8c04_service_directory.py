"""The Open Referral UK service directory (slot reserved for the directory work).

Revision ID: 4b7d1f2e8c04
Revises: 3a9e1e7b9b03
Create Date: 2026-11-30 05:03:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4b7d1f2e8c04'
down_revision = '3a9e1e7b9b03'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
