"""express lane for one-study calls and PACS studies

A batch submitted by the one-study API (and later by the DICOM listener) runs its
steps on the express queues, so it never waits behind a bulk upload.

Revision ID: 20261127_h16a
Revises: 20261127_mw
Create Date: 2026-11-27 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261127_h16a'
down_revision = '20261127_mw'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('express', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('express')
