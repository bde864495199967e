"""Documents on a referral (slot reserved for the documents work).

Revision ID: 1d0c5a7e9b01
Revises: 6af22c18363b
Create Date: 2026-11-30 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1d0c5a7e9b01'
down_revision = '6af22c18363b'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
