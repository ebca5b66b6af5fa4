"""batch problems, upload hash, progress lease, needs_attention

Per-file problems become rows (the batch keeps a bounded summary), the upload's sha256
guards Idempotency-Key replays, progress_at is the recovery sweep's lease, and the
batch status gains needs_attention (its CHECK constraint is rebuilt).

Revision ID: 20261127_h1
Revises: 0001
Create Date: 2026-11-27 07:31:14.857520
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '20261127_h1'
down_revision = '0001'
branch_labels = None
depends_on = None

STATUSES = ['queued', 'ingesting', 'screening', 'reporting', 'complete', 'complete_with_errors', 'failed']


def upgrade() -> None:
    op.create_table('batch_problems',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('batch_id', sa.String(length=32), nullable=False),
    sa.Column('filename', sa.String(length=512), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], name=op.f('fk_batch_problems_batch_id_batches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_problems'))
    )
    with op.batch_alter_table('batch_problems', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_problems_batch_id'), ['batch_id'], unique=False)

    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.alter_column('archive_key', existing_type=sa.String(length=1024), nullable=True)
        batch_op.add_column(sa.Column('upload_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('problems_total', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_batches_progress_at'), ['progress_at'], unique=False)
        batch_op.drop_constraint(batch_op.f('ck_batches_batch_status'), type_='check')
        batch_op.create_check_constraint('batch_status', sa.column('status').in_(STATUSES + ['needs_attention']))
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.alter_column('problems_total', server_default=None)



def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_batches_batch_status'), type_='check')
        batch_op.create_check_constraint('batch_status', sa.column('status').in_(STATUSES))
        batch_op.drop_index(batch_op.f('ix_batches_progress_at'))
        batch_op.drop_column('progress_at')
        batch_op.drop_column('problems_total')
        batch_op.drop_column('upload_sha256')
        batch_op.alter_column('archive_key', existing_type=sa.String(length=1024), nullable=False)

    with op.batch_alter_table('batch_problems', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_problems_batch_id'))

    op.drop_table('batch_problems')
