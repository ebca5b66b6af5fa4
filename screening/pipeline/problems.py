"""A batch's problems: one row each, a bounded summary on the batch, wording fit for hospital staff.

A manifest naming a million missing files once made every status poll 50 MB:
problems are rows (the API pages through them) and the batch keeps only the
first few lines and a count. Messages never carry endpoints, buckets, object
keys or Python internals (:func:`screening.safe_text.public_reason`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from screening.db.models import Batch, BatchProblem
from screening.safe_text import clean

SUMMARY_LINES = 10
SUMMARY_CHARS = 2000
MESSAGE_CHARS = 1000

Problem = tuple[str | None, str]  # (file name or None for the batch, message)


def replace_problems(session: Session, batch: Batch, problems: Iterable[Problem], *, keep_existing: bool) -> None:
    """Write ``problems`` as rows (after those already recorded when ``keep_existing``) and summarise them."""
    if not keep_existing:
        session.execute(delete(BatchProblem).where(BatchProblem.batch_id == batch.id))
    session.add_all(BatchProblem(batch_id=batch.id, filename=clean(name, 512) if name else None,
                                 message=clean(message, MESSAGE_CHARS)) for name, message in problems)
    session.flush()
    batch.problems_total = session.scalar(select(func.count()).select_from(BatchProblem)
                                          .where(BatchProblem.batch_id == batch.id)) or 0
    first = session.execute(select(BatchProblem.filename, BatchProblem.message)
                            .where(BatchProblem.batch_id == batch.id)
                            .order_by(BatchProblem.id).limit(SUMMARY_LINES)).all()
    batch.error = summary([*first], batch.problems_total) or None


def summary(first: list[Problem], total: int) -> str:
    """At most SUMMARY_LINES lines and SUMMARY_CHARS characters, with how many more there are."""
    lines = [f"{name}: {message}" if name else message for name, message in first]
    text = "\n".join(lines)
    if len(text) > SUMMARY_CHARS:
        text = text[: SUMMARY_CHARS - 1] + "\u2026"
    if total > len(first):
        text += f"\n… and {total - len(first)} more problems (see the batch's problems)"
    return text



def list_problems(session: Session, batch_id: str, limit: int, offset: int) -> tuple[list[Problem], int]:
    """One page of the batch's problems in the order they were found, and how many there are."""
    total = session.scalar(select(func.count()).select_from(BatchProblem).where(BatchProblem.batch_id == batch_id))
    rows = session.execute(select(BatchProblem.filename, BatchProblem.message)
                           .where(BatchProblem.batch_id == batch_id).order_by(BatchProblem.id)
                           .limit(limit).offset(offset)).all()
    return [(name, message) for name, message in rows], total or 0
