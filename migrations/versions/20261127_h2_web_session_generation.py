"""users.session_generation: login sessions end on the server at logout or a password change

Revision ID: 20261127_h2_web_sessions
Revises: 20261127_h1
Create Date: 2026-11-27 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261127_h2_web_sessions"
down_revision = "20261127_h1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
