"""Consent as a history, withdrawal acting on live shares, lawful bases (slot reserved).

Revision ID: 2c0e5e7a9b02
Revises: 1d0c5a7e9b01
Create Date: 2026-11-30 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2c0e5e7a9b02'
down_revision = '1d0c5a7e9b01'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
