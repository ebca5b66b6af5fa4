"""figures by people: patient_screenings and the people, referral (day and week) and DXA-wait tables

Empty at upgrade: fill them from existing rows with `osteo figures rebuild`.

Revision ID: 20261128_p3
Revises: 20261128_p2
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261128_p3'
down_revision = '20261128_p2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.create_index('ix_batches_model_version_created', ['model_version_id', 'created_at'], unique=False)
    op.create_table('people_weekly_summaries',
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('screened', sa.Integer(), nullable=False),
    sa.Column('normal', sa.Integer(), nullable=False),
    sa.Column('osteopenia', sa.Integer(), nullable=False),
    sa.Column('osteoporosis', sa.Integer(), nullable=False),
    sa.Column('screened_f', sa.Integer(), nullable=False),
    sa.Column('screened_m', sa.Integer(), nullable=False),
    sa.Column('screened_lt50', sa.Integer(), nullable=False),
    sa.Column('screened_50', sa.Integer(), nullable=False),
    sa.Column('screened_60', sa.Integer(), nullable=False),
    sa.Column('screened_70', sa.Integer(), nullable=False),
    sa.Column('screened_80', sa.Integer(), nullable=False),
    sa.Column('screened_90', sa.Integer(), nullable=False),
    sa.Column('screened_unknown', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_people_weekly_summaries_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('hospital_id', 'week', name=op.f('pk_people_weekly_summaries'))
    )
    with op.batch_alter_table('people_weekly_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_people_weekly_week', ['week'], unique=False)

    op.create_table('referral_weekly_summaries',
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('referred', sa.Integer(), nullable=False),
    sa.Column('dxa_done', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass', sa.Integer(), nullable=False),
    sa.Column('declined', sa.Integer(), nullable=False),
    sa.Column('lost', sa.Integer(), nullable=False),
    sa.Column('referred_f', sa.Integer(), nullable=False),
    sa.Column('referred_m', sa.Integer(), nullable=False),
    sa.Column('referred_lt50', sa.Integer(), nullable=False),
    sa.Column('referred_50', sa.Integer(), nullable=False),
    sa.Column('referred_60', sa.Integer(), nullable=False),
    sa.Column('referred_70', sa.Integer(), nullable=False),
    sa.Column('referred_80', sa.Integer(), nullable=False),
    sa.Column('referred_90', sa.Integer(), nullable=False),
    sa.Column('referred_unknown', sa.Integer(), nullable=False),
    sa.Column('dxa_done_f', sa.Integer(), nullable=False),
    sa.Column('dxa_done_m', sa.Integer(), nullable=False),
    sa.Column('dxa_done_lt50', sa.Integer(), nullable=False),
    sa.Column('dxa_done_50', sa.Integer(), nullable=False),
    sa.Column('dxa_done_60', sa.Integer(), nullable=False),
    sa.Column('dxa_done_70', sa.Integer(), nullable=False),
    sa.Column('dxa_done_80', sa.Integer(), nullable=False),
    sa.Column('dxa_done_90', sa.Integer(), nullable=False),
    sa.Column('dxa_done_unknown', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_f', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_m', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_lt50', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_50', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_60', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_70', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_80', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_90', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_unknown', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_f', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_m', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_lt50', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_50', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_60', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_70', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_80', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_90', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_unknown', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_referral_weekly_summaries_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('hospital_id', 'week', name=op.f('pk_referral_weekly_summaries'))
    )
    with op.batch_alter_table('referral_weekly_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_referral_weekly_week', ['week'], unique=False)

    op.create_table('dxa_waits',
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('waited', sa.Integer(), nullable=False),
    sa.Column('waited_f', sa.Integer(), nullable=False),
    sa.Column('waited_m', sa.Integer(), nullable=False),
    sa.Column('waited_lt50', sa.Integer(), nullable=False),
    sa.Column('waited_50', sa.Integer(), nullable=False),
    sa.Column('waited_60', sa.Integer(), nullable=False),
    sa.Column('waited_70', sa.Integer(), nullable=False),
    sa.Column('waited_80', sa.Integer(), nullable=False),
    sa.Column('waited_90', sa.Integer(), nullable=False),
    sa.Column('waited_unknown', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_dxa_waits_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('hospital_id', 'referred_on', 'days', name=op.f('pk_dxa_waits'))
    )
    with op.batch_alter_table('dxa_waits', schema=None) as batch_op:
        batch_op.create_index('ix_dxa_waits_referred_on', ['referred_on'], unique=False)

    op.create_table('people_daily_summaries',
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('screened', sa.Integer(), nullable=False),
    sa.Column('normal', sa.Integer(), nullable=False),
    sa.Column('osteopenia', sa.Integer(), nullable=False),
    sa.Column('osteoporosis', sa.Integer(), nullable=False),
    sa.Column('screened_f', sa.Integer(), nullable=False),
    sa.Column('screened_m', sa.Integer(), nullable=False),
    sa.Column('screened_lt50', sa.Integer(), nullable=False),
    sa.Column('screened_50', sa.Integer(), nullable=False),
    sa.Column('screened_60', sa.Integer(), nullable=False),
    sa.Column('screened_70', sa.Integer(), nullable=False),
    sa.Column('screened_80', sa.Integer(), nullable=False),
    sa.Column('screened_90', sa.Integer(), nullable=False),
    sa.Column('screened_unknown', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_people_daily_summaries_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('hospital_id', 'day', name=op.f('pk_people_daily_summaries'))
    )
    with op.batch_alter_table('people_daily_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_people_daily_day', ['day'], unique=False)

    op.create_table('people_rescreens',
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('prev_day', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('screened', sa.Integer(), nullable=False),
    sa.Column('normal', sa.Integer(), nullable=False),
    sa.Column('osteopenia', sa.Integer(), nullable=False),
    sa.Column('osteoporosis', sa.Integer(), nullable=False),
    sa.Column('screened_f', sa.Integer(), nullable=False),
    sa.Column('screened_m', sa.Integer(), nullable=False),
    sa.Column('screened_lt50', sa.Integer(), nullable=False),
    sa.Column('screened_50', sa.Integer(), nullable=False),
    sa.Column('screened_60', sa.Integer(), nullable=False),
    sa.Column('screened_70', sa.Integer(), nullable=False),
    sa.Column('screened_80', sa.Integer(), nullable=False),
    sa.Column('screened_90', sa.Integer(), nullable=False),
    sa.Column('screened_unknown', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_people_rescreens_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('hospital_id', 'day', 'prev_day', name=op.f('pk_people_rescreens'))
    )
    with op.batch_alter_table('people_rescreens', schema=None) as batch_op:
        batch_op.create_index('ix_people_rescreens_day', ['day'], unique=False)

    op.create_table('referral_daily_summaries',
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('referred', sa.Integer(), nullable=False),
    sa.Column('dxa_done', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass', sa.Integer(), nullable=False),
    sa.Column('declined', sa.Integer(), nullable=False),
    sa.Column('lost', sa.Integer(), nullable=False),
    sa.Column('referred_f', sa.Integer(), nullable=False),
    sa.Column('referred_m', sa.Integer(), nullable=False),
    sa.Column('referred_lt50', sa.Integer(), nullable=False),
    sa.Column('referred_50', sa.Integer(), nullable=False),
    sa.Column('referred_60', sa.Integer(), nullable=False),
    sa.Column('referred_70', sa.Integer(), nullable=False),
    sa.Column('referred_80', sa.Integer(), nullable=False),
    sa.Column('referred_90', sa.Integer(), nullable=False),
    sa.Column('referred_unknown', sa.Integer(), nullable=False),
    sa.Column('dxa_done_f', sa.Integer(), nullable=False),
    sa.Column('dxa_done_m', sa.Integer(), nullable=False),
    sa.Column('dxa_done_lt50', sa.Integer(), nullable=False),
    sa.Column('dxa_done_50', sa.Integer(), nullable=False),
    sa.Column('dxa_done_60', sa.Integer(), nullable=False),
    sa.Column('dxa_done_70', sa.Integer(), nullable=False),
    sa.Column('dxa_done_80', sa.Integer(), nullable=False),
    sa.Column('dxa_done_90', sa.Integer(), nullable=False),
    sa.Column('dxa_done_unknown', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_f', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_m', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_lt50', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_50', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_60', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_70', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_80', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_90', sa.Integer(), nullable=False),
    sa.Column('t_osteoporosis_unknown', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_f', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_m', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_lt50', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_50', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_60', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_70', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_80', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_90', sa.Integer(), nullable=False),
    sa.Column('t_low_bone_mass_unknown', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_referral_daily_summaries_hospital_id_hospitals')),
    sa.PrimaryKeyConstraint('hospital_id', 'referred_on', name=op.f('pk_referral_daily_summaries'))
    )
    with op.batch_alter_table('referral_daily_summaries', schema=None) as batch_op:
        batch_op.create_index('ix_referral_daily_referred_on', ['referred_on'], unique=False)

    op.create_table('patient_screenings',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('hospital_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('screened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('predicted_class', sa.Enum('normal', 'osteopenia', 'osteoporosis', name='screening_class', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('referred', sa.Boolean(), nullable=False),
    sa.Column('prev_day', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_patient_screenings_batch_id_batches')),
    sa.ForeignKeyConstraint(['hospital_id'], ['hospitals.id'], name=op.f('fk_patient_screenings_hospital_id_hospitals')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_patient_screenings_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_screenings')),
    sa.UniqueConstraint('patient_id', 'batch_id', name=op.f('uq_patient_screenings_patient_id_batch_id'))
    )
    with op.batch_alter_table('patient_screenings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_screenings_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_patient_screenings_hospital_day', ['hospital_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_patient_screenings_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_index('ix_batches_model_version_created')
    with op.batch_alter_table('referral_weekly_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_weekly_week')

    op.drop_table('referral_weekly_summaries')
    with op.batch_alter_table('people_weekly_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_people_weekly_week')

    op.drop_table('people_weekly_summaries')

    with op.batch_alter_table('patient_screenings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_screenings_patient_id'))
        batch_op.drop_index('ix_patient_screenings_hospital_day')
        batch_op.drop_index(batch_op.f('ix_patient_screenings_batch_id'))

    op.drop_table('patient_screenings')
    with op.batch_alter_table('referral_daily_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_referral_daily_referred_on')

    op.drop_table('referral_daily_summaries')
    with op.batch_alter_table('people_rescreens', schema=None) as batch_op:
        batch_op.drop_index('ix_people_rescreens_day')

    op.drop_table('people_rescreens')
    with op.batch_alter_table('people_daily_summaries', schema=None) as batch_op:
        batch_op.drop_index('ix_people_daily_day')

    op.drop_table('people_daily_summaries')
    with op.batch_alter_table('dxa_waits', schema=None) as batch_op:
        batch_op.drop_index('ix_dxa_waits_referred_on')

    op.drop_table('dxa_waits')
