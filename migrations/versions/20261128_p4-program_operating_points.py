"""operating points: districts' referral thresholds, and the thresholds every batch and result was judged by

Revision ID: 20261128_p4
Revises: 20261128_p3
Create Date: 2026-11-28 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261128_p4'
down_revision = '20261128_p3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('operating_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('refer_threshold', sa.Float(), nullable=False),
    sa.Column('capacity_threshold', sa.Float(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint('capacity_threshold IS NULL OR (capacity_threshold > 0 AND capacity_threshold < refer_threshold)', name=op.f('ck_operating_points_capacity_below_refer')),
    sa.CheckConstraint('refer_threshold > 0 AND refer_threshold < 1', name=op.f('ck_operating_points_refer_in_range')),
    sa.ForeignKeyConstraint(['set_by'], ['users.id'], name=op.f('fk_operating_points_set_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operating_points'))
    )
    with op.batch_alter_table('operating_points', schema=None) as batch_op:
        batch_op.create_index('ix_operating_points_district_active', ['district', 'active'], unique=False)

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refer_threshold', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('capacity_threshold', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('operating_point_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_batches_operating_point_id_operating_points'), 'operating_points', ['operating_point_id'], ['id'])

    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('refer_threshold', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('capacity_threshold', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('operating_point_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_predictions_operating_point_id_operating_points'), 'operating_points', ['operating_point_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('predictions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_predictions_operating_point_id_operating_points'), type_='foreignkey')
        batch_op.drop_column('operating_point_id')
        batch_op.drop_column('capacity_threshold')
        batch_op.drop_column('refer_threshold')
        batch_op.drop_column('tier')

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_batches_operating_point_id_operating_points'), type_='foreignkey')
        batch_op.drop_column('operating_point_id')
        batch_op.drop_column('capacity_threshold')
        batch_op.drop_column('refer_threshold')

    with op.batch_alter_table('operating_points', schema=None) as batch_op:
        batch_op.drop_index('ix_operating_points_district_active')

    op.drop_table('operating_points')
