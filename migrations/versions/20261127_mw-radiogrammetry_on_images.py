"""metacarpal radiogrammetry on images

Every readable hand is measured at ingest (screening.measurement): the method's version,
whether it was measured, the combined cortical index, the mean cortical thickness in mm
(only with a known pixel spacing), the per-bone values and lines, and the overlay's key.

Revision ID: 20261127_mw
Revises: 20261127_h6
Create Date: 2026-11-27 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261127_mw'
down_revision = '20261127_h6'
branch_labels = None
depends_on = None

COLUMNS = ('radiogrammetry_version', 'measured', 'cortical_index', 'cortical_thickness_mm', 'measurement',
           'measurement_overlay_key')


def upgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        batch_op.add_column(sa.Column('radiogrammetry_version', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('measured', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('cortical_index', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('cortical_thickness_mm', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('measurement', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('measurement_overlay_key', sa.String(length=1024), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('images', schema=None) as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
