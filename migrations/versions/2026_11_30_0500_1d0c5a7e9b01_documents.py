"""Documents on a referral: their metadata (row-level security like a
screening's: seen by the agencies that hold the referral) and the encrypted
bytes of the database storage (document_blob).

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
    op.create_table('document_blob',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_document_blob'))
    )
    op.create_table('document',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('referral_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('consent_form', 'screening_tool', 'assessment', 'meeting_minutes', 'other', name='document_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('visibility', sa.Enum('shared', 'internal', name='document_visibility', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('uploaded_by_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('storage_key', sa.String(length=100), nullable=True),
    sa.Column('content_removed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_document_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['referral_id'], ['referral.id'], name=op.f('fk_document_referral_id_referral'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_document_uploaded_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index('ix_document_referral_uploaded', ['referral_id', 'uploaded_at'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # A document is seen by the agencies that hold its referral (as a
        # screening is: migration 6af22c18363b); an internal one only by its
        # agency, which the service enforces. The blobs carry no case
        # reference: they are ciphertext, read only through a document.
        op.execute("ALTER TABLE document ENABLE ROW LEVEL SECURITY")
        op.execute(
            "CREATE POLICY document_held ON document FOR ALL "
            "USING (rls_bypass() OR rls_holds(referral_id)) "
            "WITH CHECK (rls_bypass() OR rls_holds(referral_id))"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS document_held ON document")
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index('ix_document_referral_uploaded')

    op.drop_table('document')
    op.drop_table('document_blob')
