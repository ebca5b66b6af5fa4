"""Batch status transitions: the one place a batch's status changes.

Every move is a conditional UPDATE (``WHERE status IN (...)``), so when two
workers race (two chunks finishing at once, a redelivered task, the recovery
sweep) exactly one of them wins and the others see ``False``. Each move also
renews ``progress_at``, the lease the recovery sweep reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, Result, update
from sqlalchemy.orm import Session

from screening.db.models import Batch, BatchStatus
from screening.pipeline.context import now
from screening.vocabulary import FINISHED_STATUSES

FINAL = FINISHED_STATUSES  # what "finished" means lives in the vocabulary
ACTIVE = tuple(status for status in BatchStatus if status not in FINAL)


def move(session: Session, batch_id: str, source: Iterable[BatchStatus], target: BatchStatus,
         **values: Any) -> bool:
    """Move the batch from one of ``source`` to ``target``; False when another caller got there first."""
    values.setdefault("progress_at", now())
    if target in FINAL:
        values.setdefault("finished_at", now())
    moved = session.execute(update(Batch).where(Batch.id == batch_id, Batch.status.in_(list(source)))
                            .values(status=target, **values).execution_options(synchronize_session=False))
    session.expire_all()
    return rowcount(moved) == 1


def touch(session: Session, batch_id: str) -> None:
    """Renew the batch's lease: a step is alive and moving it on."""
    session.execute(update(Batch).where(Batch.id == batch_id).values(progress_at=now())
                    .execution_options(synchronize_session=False))


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE matched (typed: ``Session.execute`` declares a plain Result)."""
    return cast(CursorResult[Any], result).rowcount
