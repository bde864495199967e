"""Indexes for the worklists, reports, name search and matching; the audit
chain's head read under its lock in one statement (PostgreSQL).

Revision ID: 5f0c1d2e9a47
Revises: 21bc43e05535
Create Date: 2026-11-25 10:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5f0c1d2e9a47'
down_revision = '21bc43e05535'
branch_labels = None
depends_on = None

# Takes the chain lock, then reads the head. A VOLATILE plpgsql function takes
# a fresh snapshot for each statement, so the SELECT sees every event
# committed by whoever held the lock before: one round trip instead of two.
AUDIT_CHAIN_HEAD = """
CREATE FUNCTION audit_chain_head(lock_key bigint)
RETURNS TABLE (seq bigint, hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    RETURN QUERY
        SELECT e.seq::bigint, e.hash::text FROM audit_event e ORDER BY e.seq DESC LIMIT 1;
END
$$
"""

TRIGRAM = {
    # The name search looks for a term anywhere in the full name.
    "ix_child_full_name_trgm": "lower(first_name || ' ' || last_name)",
}


def upgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_receiving_status')
        batch_op.drop_index('ix_referral_referring_status')
        batch_op.create_index(
            'ix_referral_receiving_status',
            ['receiving_organisation_id', 'status', 'created_at'],
            unique=False,
        )
        batch_op.create_index(
            'ix_referral_referring_status',
            ['referring_organisation_id', 'status', 'created_at'],
            unique=False,
        )
        batch_op.create_index(
            'ix_referral_receiving_created', ['receiving_organisation_id', 'created_at'], unique=False
        )
        batch_op.create_index(
            'ix_referral_referring_created', ['referring_organisation_id', 'created_at'], unique=False
        )
        batch_op.create_index('ix_referral_created', ['created_at'], unique=False)
        batch_op.create_index(
            'ix_referral_receiving_submitted',
            ['receiving_organisation_id', 'submitted_at'],
            unique=False,
        )
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.create_index('ix_child_date_of_birth', ['date_of_birth'], unique=False)
        batch_op.create_index('ix_child_postcode', ['postcode'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, expression in TRIGRAM.items():
            op.execute(f"CREATE INDEX {name} ON child USING gin ({expression} gin_trgm_ops)")
        op.execute(AUDIT_CHAIN_HEAD)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head(bigint)")
        for name in TRIGRAM:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        op.execute("DROP EXTENSION IF EXISTS pg_trgm")
    with op.batch_alter_table('child', schema=None) as batch_op:
        batch_op.drop_index('ix_child_postcode')
        batch_op.drop_index('ix_child_date_of_birth')
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_receiving_submitted')
        batch_op.drop_index('ix_referral_created')
        batch_op.drop_index('ix_referral_referring_created')
        batch_op.drop_index('ix_referral_receiving_created')
        batch_op.drop_index('ix_referral_referring_status')
        batch_op.drop_index('ix_referral_receiving_status')
        batch_op.create_index(
            'ix_referral_referring_status', ['referring_organisation_id', 'status'], unique=False
        )
        batch_op.create_index(
            'ix_referral_receiving_status', ['receiving_organisation_id', 'status'], unique=False
        )
