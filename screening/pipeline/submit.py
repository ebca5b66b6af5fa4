"""Submitting a batch: store the archive, commit the row, then enqueue ingest. Every path uses this.

The web upload, ``osteo screen``, the demo and the embedded runner all call
:func:`submit_batch`, so the order the design asks for (the archive is in the
object store before the row exists; the row is committed before any task reads
it) is written once. When publishing fails after the commit, the batch stays
``queued`` and :class:`BrokerUnavailable` is raised (the API answers 503 with
Retry-After); the recovery sweep enqueues it once the broker is back.

Idempotency-Key: the body is hashed while it streams to the store. A replay
with the same body answers the first batch; a different body is refused
(:class:`IdempotencyConflict`); concurrent requests with one key are settled by
the unique constraint, and the loser's archive is deleted, never orphaned.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from screening.db.models import Batch, Hospital, new_id
from screening.faults import BrokerUnavailable, is_infrastructure_error
from screening.pipeline.context import Enqueue, now
from screening.pipeline.names import INGEST, in_lane
from screening.storage import ObjectStore

logger = logging.getLogger(__name__)

ARCHIVE_SUFFIXES = {".zip", ".tar", ".tar.gz", ".tgz"}


class IdempotencyConflict(ValueError):
    """The Idempotency-Key was used before with a different body."""


class NotYetQueued(BrokerUnavailable):
    """The batch is committed but its ingest could not be published; the recovery sweep will enqueue it."""

    def __init__(self, batch_id: str) -> None:
        super().__init__(f"batch {batch_id} is stored; the task queue is unavailable, it will be queued later")
        self.batch_id = batch_id


class EmptyUpload(ValueError):
    """The uploaded archive has no bytes."""


@dataclass(frozen=True)
class Submission:
    batch: Batch
    created: bool  # False: an Idempotency-Key replay answered with the first batch


class _HashingReader:
    """Passes reads through while hashing and counting the bytes."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream, self.sha256, self.size = stream, hashlib.sha256(), 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data


def submit_batch(session: Session, store: ObjectStore, enqueue: Enqueue, hospital: Hospital, stream: IO[bytes],
                 filename: str, *, uploader_id: int | None = None, idempotency_key: str | None = None,
                 before_commit: Callable[[Batch], None] | None = None, express: bool = False) -> Submission:
    """Store, commit, enqueue. ``before_commit(batch)`` (e.g. an audit row) joins the batch's transaction.

    ``express``: the batch runs in the express lane (a one-study call, a PACS study).
    """
    batch_id = new_id()
    suffix = "".join(Path(filename).suffixes[-2:]).lower()
    key = f"uploads/{hospital.code}/{batch_id}{suffix if suffix in ARCHIVE_SUFFIXES else '.bin'}"
    reader = _HashingReader(stream)
    store.put_stream(key, reader, "application/octet-stream")  # type: ignore[arg-type]
    digest = reader.sha256.hexdigest()
    if reader.size == 0:
        store.delete(key)
        raise EmptyUpload("the uploaded archive is empty")
    if idempotency_key:
        earlier = _replay(session, store, hospital, idempotency_key, digest, key)
        if earlier is not None:
            return Submission(earlier, False)
    batch = Batch(id=batch_id, hospital_id=hospital.id, uploader_id=uploader_id, archive_key=key,
                  original_filename=Path(filename).name[:255], idempotency_key=idempotency_key,
                  upload_sha256=digest, progress_at=now(), express=express)
    session.add(batch)
    try:
        session.flush()
        if before_commit is not None:
            before_commit(batch)
        session.commit()
    except IntegrityError:
        session.rollback()
        if not idempotency_key:
            store.delete(key)
            raise
        earlier = _replay(session, store, hospital, idempotency_key, digest, key)
        if earlier is None:  # pragma: no cover - the constraint fired, so the row exists
            raise
        return Submission(earlier, False)
    except BaseException:
        session.rollback()
        store.delete(key)
        raise
    logger.info("batch=%s hospital=%s submitted (%d bytes)%s", batch_id, hospital.code, reader.size,
                " express" if express else "")
    try:
        publish(enqueue, INGEST, (batch_id,), express)
    except BrokerUnavailable:
        raise NotYetQueued(batch_id) from None
    return Submission(batch, True)


def _replay(session: Session, store: ObjectStore, hospital: Hospital, idempotency_key: str, digest: str,
            new_key: str) -> Batch | None:
    """The batch an earlier request with this key created (after dropping this request's archive), or None."""
    earlier = session.scalar(select(Batch).where(Batch.hospital_id == hospital.id,
                                                 Batch.idempotency_key == idempotency_key))
    if earlier is None:
        return None
    store.delete(new_key)
    if earlier.upload_sha256 != digest:
        raise IdempotencyConflict("this Idempotency-Key was already used with a different archive")
    return earlier


def publish(enqueue: Enqueue, name: str, args: tuple, express: bool = False) -> None:
    """Enqueue one step in the batch's lane; an outage becomes :class:`BrokerUnavailable` (the sweep catches up)."""
    name = in_lane(name, express)
    try:
        enqueue(name, args)
    except BrokerUnavailable:
        raise
    except Exception as exc:
        if not is_infrastructure_error(exc):
            raise
        logger.warning("task=%s args=%s not published: %s", name, args, type(exc).__name__)
        raise BrokerUnavailable(f"the task queue is unavailable ({type(exc).__name__})") from exc

