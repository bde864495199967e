"""Consent as a history, withdrawal acting on live shares, lawful bases:
the consent_change table (append-only, row-level security as on
screenings), back-filled with one change per referral that has a consent
status; consent status "withdrawn"; the law enforcement basis (DPA 2018
Part 3); the referral's special category condition; on a share, the flag
and the decision when consent is withdrawn.

Revision ID: 2c0e5e7a9b02
Revises: 1d0c5a7e9b01
Create Date: 2026-11-30 05:00:00

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2c0e5e7a9b02'
down_revision = '1d0c5a7e9b01'
branch_labels = None
depends_on = None

OLD_CONSENT = ['obtained_from_child', 'obtained_from_parent', 'refused', 'not_sought']
NEW_CONSENT = [*OLD_CONSENT, 'withdrawn']
OLD_BASES = ['public_task', 'legal_obligation', 'vital_interests', 'consent']
NEW_BASES = [*OLD_BASES, 'law_enforcement']
CONDITIONS = ['safeguarding_children', 'law_enforcement_safeguarding']
GIVERS = ['child', 'parent_or_carer', 'other']
METHODS = ['in_person', 'phone', 'letter_or_form', 'email', 'other', 'on_the_referral']
DECISIONS = ['continue', 'revoke']


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=40)


def _vocabularies(consent, bases):
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_referral_consent_status'), type_='check')
        batch_op.create_check_constraint('consent_status', sa.column('consent_status').in_(consent))
        batch_op.drop_constraint(batch_op.f('ck_referral_lawful_basis'), type_='check')
        batch_op.create_check_constraint('lawful_basis', sa.column('lawful_basis').in_(bases))
    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_share_share_basis'), type_='check')
        batch_op.create_check_constraint('share_basis', sa.column('lawful_basis').in_(bases))


def _back_fill():
    """One change per referral with a consent status: what the referral
    said, recorded by its referrer when it was made."""
    giver = (
        "CASE consent_status WHEN 'obtained_from_child' THEN 'child' "
        "WHEN 'obtained_from_parent' THEN 'parent_or_carer' ELSE NULL END"
    )
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(
            "INSERT INTO consent_change (id, referral_id, status, given_by, method, note, "
            "occurred_at, recorded_by_id, recorded_by_organisation_id, recorded_at) "
            f"SELECT gen_random_uuid(), id, consent_status, {giver}, 'on_the_referral', NULL, "
            "created_at, referring_user_id, referring_organisation_id, created_at "
            "FROM referral WHERE consent_status IS NOT NULL"
        )
        return
    referral = sa.table(
        'referral',
        sa.column('id', sa.Uuid()),
        sa.column('consent_status', sa.String()),
        sa.column('created_at', sa.DateTime()),
        sa.column('referring_user_id', sa.Uuid()),
        sa.column('referring_organisation_id', sa.Uuid()),
    )
    change = sa.table(
        'consent_change',
        sa.column('id', sa.Uuid()),
        sa.column('referral_id', sa.Uuid()),
        sa.column('status', sa.String()),
        sa.column('given_by', sa.String()),
        sa.column('method', sa.String()),
        sa.column('occurred_at', sa.DateTime()),
        sa.column('recorded_by_id', sa.Uuid()),
        sa.column('recorded_by_organisation_id', sa.Uuid()),
        sa.column('recorded_at', sa.DateTime()),
    )
    givers = {'obtained_from_child': 'child', 'obtained_from_parent': 'parent_or_carer'}
    rows = bind.execute(
        sa.select(referral).where(referral.c.consent_status.is_not(None))
    ).all()
    if rows:
        op.bulk_insert(change, [
            {
                'id': uuid.uuid4(),
                'referral_id': row.id,
                'status': row.consent_status,
                'given_by': givers.get(row.consent_status),
                'method': 'on_the_referral',
                'occurred_at': row.created_at,
                'recorded_by_id': row.referring_user_id,
                'recorded_by_organisation_id': row.referring_organisation_id,
                'recorded_at': row.created_at,
            }
            for row in rows
        ])


def upgrade():
    op.create_table('consent_change',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('status', _enum(NEW_CONSENT, 'consent_change_status'), nullable=False),
    sa.Column('given_by', _enum(GIVERS, 'given_by'), nullable=True),
    sa.Column('method', _enum(METHODS, 'consent_method'), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_by_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_consent_change_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['recorded_by_organisation_id'], ['organisation.id'], name=op.f('fk_consent_change_recorded_by_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_consent_change_referral_id_referral'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_change'))
    )
    with op.batch_alter_table('consent_change', schema=None) as batch_op:
        batch_op.create_index('ix_consent_change_referral_recorded', ['referral_id', 'recorded_at'], unique=False)

    _vocabularies(NEW_CONSENT, NEW_BASES)
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('special_category_condition', _enum(CONDITIONS, 'special_category_condition'), nullable=True))

    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_withdrawn_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('consent_decision', _enum(DECISIONS, 'consent_decision'), nullable=True))
        batch_op.add_column(sa.Column('consent_decision_basis', _enum(NEW_BASES, 'consent_decision_basis'), nullable=True))
        batch_op.add_column(sa.Column('consent_decision_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('consent_decided_by_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('consent_decided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('consent_action_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_share_consent_decided_by_id_user_account'), 'user_account', ['consent_decided_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_share_consent_action_id_action'), 'action', ['consent_action_id'], ['id'], ondelete='SET NULL')

    _back_fill()
    if op.get_bind().dialect.name == "postgresql":
        # A consent change is seen by the agencies that hold its referral (as
        # its screenings are: migration 6af22c18363b).
        op.execute("ALTER TABLE consent_change ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY consent_change_held ON consent_change FOR ALL "
            "USING (rls_bypass() OR rls_holds(referral_id)) "
            "WITH CHECK (rls_bypass() OR rls_holds(referral_id))"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS consent_change_held ON consent_change")
    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_share_consent_action_id_action'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_share_consent_decided_by_id_user_account'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('ck_share_consent_decision'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_share_consent_decision_basis'), type_='check')
        batch_op.drop_column('consent_action_id')
        batch_op.drop_column('consent_decided_at')
        batch_op.drop_column('consent_decided_by_id')
        batch_op.drop_column('consent_decision_reason')
        batch_op.drop_column('consent_decision_basis')
        batch_op.drop_column('consent_decision')
        batch_op.drop_column('consent_withdrawn_at')

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_referral_special_category_condition'), type_='check')
        batch_op.drop_column('special_category_condition')

    # What the old vocabularies cannot hold goes back to what they can: a
    # withdrawn consent to "refused", a law enforcement basis to public task.
    op.execute("UPDATE referral SET consent_status = 'refused' WHERE consent_status = 'withdrawn'")
    op.execute("UPDATE referral SET lawful_basis = 'public_task' WHERE lawful_basis = 'law_enforcement'")
    op.execute("UPDATE share SET lawful_basis = 'public_task' WHERE lawful_basis = 'law_enforcement'")
    _vocabularies(OLD_CONSENT, OLD_BASES)

    with op.batch_alter_table('consent_change', schema=None) as batch_op:
        batch_op.drop_index('ix_consent_change_referral_recorded')

    op.drop_table('consent_change')
