"""Idempotent inserts on PostgreSQL and SQLite alike.

A redelivered task inserts the same rows again; ``ON CONFLICT`` on the table's
natural key turns that into a no-op (or an update) instead of a duplicate or an
IntegrityError, without a read-then-write race between workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model: type, rows: Sequence[dict[str, Any]], key: Sequence[str],
                  update: bool = False) -> None:
    """Insert ``rows``; on a conflict on ``key`` keep the old row, or overwrite it if ``update``."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(list(rows))
    if update:
        columns = [c for c in rows[0] if c not in key]
        statement = statement.on_conflict_do_update(
            index_elements=list(key), set_={c: statement.excluded[c] for c in columns})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    session.execute(statement)
