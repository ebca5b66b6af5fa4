"""hospital systems: DICOM AE titles, destinations, deliveries and sealed source identifiers

The listener's accepted calling AE titles (mapped to hospitals), where each hospital's
results go back (C-STORE or STOW-RS), one delivery per batch and destination with its
state, tries and reason, and the encrypted patient/study ids of received DICOM images.

Revision ID: 20261127_h16b
Revises: 20261127_h16a
Create Date: 2026-11-27 11:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261127_h16b'
down_revision = '20261127_h16a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dicom_ae_titles',
    sa.Column('ae_title', sa.String(length=16), nullable=False),
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_dicom_ae_titles_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('ae_title', name=op.f('pk_dicom_ae_titles'))
    )
    with op.batch_alter_table('dicom_ae_titles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dicom_ae_titles_hospital_id'), ['hospital_id'], unique=False)

    op.create_table('dicom_destinations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('dimse', 'stow', name='destination_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=True),
    sa.Column('port', sa.Integer(), nullable=True),
    sa.Column('ae_title', sa.String(length=16), nullable=True),
    sa.Column('url', sa.String(length=1024), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_dicom_destinations_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dicom_destinations')),
    sa.UniqueConstraint('hospital_id', 'name', name=op.f('uq_dicom_destinations_hospital_id_name'))
    )
    with op.batch_alter_table('dicom_destinations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dicom_destinations_hospital_id'), ['hospital_id'], unique=False)

    op.create_table('dicom_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('destination_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'failed', name='delivery_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('objects', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_dicom_deliveries_batch_id_batches')),
    sa.ForeignKeyConstraint(['destination_id'], ['dicom_destinations.id'], name=op.f('fk_dicom_deliveries_destination_id_dicom_destinations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dicom_deliveries')),
    sa.UniqueConstraint('batch_id', 'destination_id', name=op.f('uq_dicom_deliveries_batch_id_destination_id'))
    )
    with op.batch_alter_table('dicom_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dicom_deliveries_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dicom_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False)

    op.create_table('dicom_sources',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=512), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_dicom_sources_batch_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dicom_sources')),
    sa.UniqueConstraint('batch_id', 'filename', name=op.f('uq_dicom_sources_batch_id_filename'))
    )
    with op.batch_alter_table('dicom_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dicom_sources_batch_id'), ['batch_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('dicom_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dicom_sources_batch_id'))

    op.drop_table('dicom_sources')
    with op.batch_alter_table('dicom_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dicom_deliveries_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_dicom_deliveries_batch_id'))

    op.drop_table('dicom_deliveries')
    with op.batch_alter_table('dicom_destinations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dicom_destinations_hospital_id'))

    op.drop_table('dicom_destinations')
    with op.batch_alter_table('dicom_ae_titles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dicom_ae_titles_hospital_id'))

    op.drop_table('dicom_ae_titles')
