"""patients.identifier: the hospital's own patient id, encrypted at rest (Fernet)

Revision ID: 20261128_p1
Revises: 20261127_h16b
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '20261128_p1'
down_revision = '20261127_h16b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identifier', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_column('identifier')
