"""Information sharing agreements (their parties), the agreement a share
cites or the reason it is made without one, and notifications about a share
without an agreement or an agreement due for review (the notification's
referral becomes optional; two new kinds). Agreements hold no case data: no
row-level security (the service scopes them to their parties).

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

OLD_KINDS = (
    "referral_arrived", "referral_assigned", "referral_declined", "referral_closed",
    "referral_reopened", "referral_shared", "triage_overdue",
    "action_assigned", "action_due", "action_overdue",
)
NEW_KINDS = OLD_KINDS + ("shared_without_agreement", "agreement_review_due")


def _kinds(kinds):
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_notification_notification_kind"), type_="check")
        batch_op.create_check_constraint(
            "notification_kind", sa.column("kind").in_(kinds)
        )


def upgrade():
    op.create_table('agreement',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('purposes', sa.Text(), nullable=False),
    sa.Column('lawful_bases', sa.JSON(), nullable=False),
    sa.Column('data_categories', sa.JSON(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('document_reference', sa.String(length=500), nullable=True),
    sa.Column('document_key', sa.String(length=100), nullable=True),
    sa.Column('document_filename', sa.String(length=200), nullable=True),
    sa.Column('document_content_type', sa.String(length=100), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_by_organisation_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('review_notified_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_agreement_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['created_by_organisation_id'], ['organisation.id'], name=op.f('fk_agreement_created_by_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement'))
    )
    op.create_table('agreement_party',
    sa.Column('agreement_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreement.id'], name=op.f('fk_agreement_party_agreement_id_agreement'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_agreement_party_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('agreement_id', 'organisation_id', name=op.f('pk_agreement_party'))
    )
    with op.batch_alter_table('agreement_party', schema=None) as batch_op:
        batch_op.create_index('ix_agreement_party_organisation', ['organisation_id', 'agreement_id'], unique=False)

    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agreement_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('no_agreement_reason', sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f('ix_share_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_share_agreement_id_agreement'), 'agreement', ['agreement_id'], ['id'])

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('agreement_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('referral_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_notification_share_id_share'), 'share', ['share_id'], ['id'], ondelete='CASCADE')
        batch_op.create_foreign_key(batch_op.f('fk_notification_agreement_id_agreement'), 'agreement', ['agreement_id'], ['id'], ondelete='CASCADE')
    _kinds(NEW_KINDS)


def downgrade():
    # Notifications about a share or an agreement have no referral: they go.
    notification = sa.table("notification", sa.column("kind"), sa.column("referral_id"))
    op.execute(
        notification.delete().where(
            sa.or_(notification.c.kind.in_(NEW_KINDS[len(OLD_KINDS):]),
                   notification.c.referral_id.is_(None))
        )
    )
    _kinds(OLD_KINDS)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_agreement_id_agreement'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_notification_share_id_share'), type_='foreignkey')
        batch_op.alter_column('referral_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('agreement_id')
        batch_op.drop_column('share_id')

    with op.batch_alter_table('share', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_share_agreement_id_agreement'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_share_agreement_id'))
        batch_op.drop_column('no_agreement_reason')
        batch_op.drop_column('agreement_id')

    with op.batch_alter_table('agreement_party', schema=None) as batch_op:
        batch_op.drop_index('ix_agreement_party_organisation')

    op.drop_table('agreement_party')
    op.drop_table('agreement')
