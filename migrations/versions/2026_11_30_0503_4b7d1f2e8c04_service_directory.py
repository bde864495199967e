"""The Open Referral UK service directory: services imported from an HSDS
feed, the postcode districts they serve and their taxonomy terms, and the
service a referral names (referral.service_id, optional). The directory
holds no case data: no row-level security on its tables (the referral's
own policy covers the new column).

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
    op.create_table('directory_service',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('source_id', sa.String(length=200), nullable=False),
    sa.Column('source_feed', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('provider_name', sa.String(length=300), nullable=True),
    sa.Column('organisation_id', sa.Uuid(), nullable=True),
    sa.Column('url', sa.String(length=500), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=60), nullable=True),
    sa.Column('min_age', sa.Integer(), nullable=True),
    sa.Column('max_age', sa.Integer(), nullable=True),
    sa.Column('area_names', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('active', 'inactive', name='directory_service_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_directory_service_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_directory_service')),
    sa.UniqueConstraint('source_id', name=op.f('uq_directory_service_source_id'))
    )
    with op.batch_alter_table('directory_service', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_service_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('directory_service_area',
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('district', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['directory_service.id'], name=op.f('fk_directory_service_area_service_id_directory_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'district', name=op.f('pk_directory_service_area'))
    )
    with op.batch_alter_table('directory_service_area', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_service_area_district'), ['district'], unique=False)

    op.create_table('directory_service_type',
    sa.Column('service_id', sa.Uuid(), nullable=False),
    sa.Column('term', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['directory_service.id'], name=op.f('fk_directory_service_type_service_id_directory_service'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('service_id', 'term', name=op.f('pk_directory_service_type'))
    )
    with op.batch_alter_table('directory_service_type', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_service_type_term'), ['term'], unique=False)

    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_referral_service_id'), ['service_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_referral_service_id_directory_service'), 'directory_service', ['service_id'], ['id'])


def downgrade():
    with op.batch_alter_table('referral', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_referral_service_id_directory_service'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_referral_service_id'))
        batch_op.drop_column('service_id')

    with op.batch_alter_table('directory_service_type', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_service_type_term'))

    op.drop_table('directory_service_type')
    with op.batch_alter_table('directory_service_area', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_service_area_district'))

    op.drop_table('directory_service_area')
    with op.batch_alter_table('directory_service', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_service_organisation_id'))

    op.drop_table('directory_service')
