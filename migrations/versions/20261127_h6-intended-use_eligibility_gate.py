"""screening population and hand gate on images; not-eligible counters

Images record whether their patient is in the screening population (and why not)
and the hand/wrist gate's version, body part, score and hand box; batches and daily
summaries count not-eligible images apart from screened ones.

Revision ID: 20261127_h6
Revises: 20261127_h2_web_sessions
Create Date: 2026-11-27 08:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261127_h6'
down_revision = '20261127_h2_web_sessions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('eligible', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('eligibility_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('gate_version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('body_part', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('gate_score', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('hand_box', sa.JSON(), nullable=True))
    for table in ('batches', 'daily_hospital_summaries'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('not_eligible', sa.Integer(), nullable=False, server_default='0'))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('not_eligible', server_default=None)


def downgrade() -> None:
    for table in ('daily_hospital_summaries', 'batches'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('not_eligible')
    with op.batch_alter_table('images', schema=None) as batch_op:
        for column in ('hand_box', 'gate_score', 'body_part', 'gate_version', 'eligibility_reason', 'eligible'):
            batch_op.drop_column(column)
