"""referrals and referral_events: the follow-up of each referral, its DXA result and its history

Revision ID: 20261128_p2
Revises: 20261128_p1
Create Date: 2026-11-28 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261128_p2'
down_revision = '20261128_p1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('image_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prediction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('model_version_id', sa.String(length=80), nullable=True),
    sa.Column('refer_threshold', sa.Float(), nullable=True),
    sa.Column('referred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('predicted_class', sa.Enum('normal', 'osteopenia', 'osteoporosis', name='referral_class', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('p_osteoporosis', sa.Float(), nullable=False),
    sa.Column('age_months', sa.Integer(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('state', sa.Enum('to_contact', 'contacted', 'dxa_booked', 'dxa_done', 'declined', 'lost_to_follow_up', name='follow_up_state', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state_on', sa.Date(), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_changed_by', sa.Integer(), nullable=True),
    sa.Column('dxa_date', sa.Date(), nullable=True),
    sa.Column('dxa_device', sa.String(length=100), nullable=True),
    sa.Column('t_femoral_neck', sa.Float(), nullable=True),
    sa.Column('t_total_hip', sa.Float(), nullable=True),
    sa.Column('t_lumbar_spine', sa.Float(), nullable=True),
    sa.Column('t_lowest', sa.Float(), nullable=True),
    sa.Column('dxa_recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dxa_recorded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_referrals_batch_id_batches')),
    sa.ForeignKeyConstraint(['dxa_recorded_by'], ['users.id'], name=op.f('fk_referrals_dxa_recorded_by_users')),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_referrals_hospital_id_hospitals')),
    sa.ForeignKeyConstraint(['image_id'], ['images.id'], name=op.f('fk_referrals_image_id_images')),
    sa.ForeignKeyConstraint(['model_version_id'], ['model_versions.id'], name=op.f('fk_referrals_model_version_id_model_versions')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_referrals_patient_id_patients')),
    sa.ForeignKeyConstraint(['prediction_id'], ['predictions.id'], name=op.f('fk_referrals_prediction_id_predictions')),
    sa.ForeignKeyConstraint(['state_changed_by'], ['users.id'], name=op.f('fk_referrals_state_changed_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('patient_id', 'batch_id', name=op.f('uq_referrals_patient_id_batch_id'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_referrals_hospital_referred', ['hospital_id', 'referred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_referrals_referred_on', ['referred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_state'), ['state'], unique=False)

    op.create_table('referral_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('referral_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=True),
    sa.Column('to_state', sa.String(length=32), nullable=True),
    sa.Column('happened_on', sa.Date(), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_events_referral_id_referrals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_referral_events_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_events'))
    )
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_events_referral_id'), ['referral_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_events_referral_id'))

    op.drop_table('referral_events')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_state'))
        batch_op.drop_index('ix_referrals_referred_on')
        batch_op.drop_index(batch_op.f('ix_referrals_patient_id'))
        batch_op.drop_index('ix_referrals_hospital_referred')
        batch_op.drop_index(batch_op.f('ix_referrals_batch_id'))

    op.drop_table('referrals')
