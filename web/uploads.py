"""Accepting an archive upload, shared by the API and the dashboard's upload form.

Order matters (DESIGN.md): the archive is streamed into the object store, the
batch row is committed, and only then is the ingest step enqueued, so a worker
never sees a batch whose archive or row is missing. That order is written once,
in :func:`screening.pipeline.submit_batch`; this module maps its outcomes to HTTP.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import IO

from flask import g, request

from screening import pipeline
from screening.accounts import audit
from screening.db.models import Batch, User
from screening.faults import BrokerUnavailable
from web.authz import upload_hospital
from web.errors import Problem, bad_request
from web.state import db, state

ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
CONTENT_TYPES = {
    "application/zip": ".zip", "application/x-zip-compressed": ".zip",
    "application/x-tar": ".tar", "application/gzip": ".tar.gz", "application/x-gzip": ".tar.gz",
    "application/x-gtar": ".tar.gz",
}
MAX_IDEMPOTENCY_KEY = 128
BROKER_RETRY_AFTER_S = 30


def archive_filename(name: str | None, content_type: str | None = None) -> str:
    """A safe base name with an archive suffix; 415 when it is clearly not an archive."""
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    if not base:
        return "upload" + (CONTENT_TYPES.get(content_type or "", ".zip"))
    if not base.lower().endswith(ARCHIVE_SUFFIXES):
        raise Problem(415, "Unsupported media type",
                      f"{base!r} is not an archive; upload a .zip, .tar, .tar.gz or .tgz file")
    return base


def idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key and (len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable()):
        raise bad_request(f"Idempotency-Key must be printable and at most {MAX_IDEMPOTENCY_KEY} characters")
    return key


def rate_limit(scope: str, identity: str) -> None:
    verdict = state().limiter.check(scope, identity)
    if not verdict.allowed:
        raise Problem(429, "Too many requests", f"too many {scope} attempts; try again in {verdict.retry_after} s",
                      retry_after=verdict.retry_after)


def accept(user: User, hospital_code: str | None, stream: IO[bytes], filename: str,
           key: str | None, *, express: bool = False, via: str = "batch") -> tuple[Batch, bool]:
    """Store, commit, enqueue (:func:`screening.pipeline.submit_batch`); returns (batch, created).

    A replayed Idempotency-Key with the same body returns the first batch; with a
    different body it is refused with 409. A broker outage after the commit answers
    503 with Retry-After: the batch is kept and the recovery sweep enqueues it.
    ``express`` puts the batch in the express lane (one-study calls); ``via`` names the
    endpoint in the audit row.
    """
    session = db()
    hospital = upload_hospital(session, user, hospital_code)
    rate_limit("upload", str(user.id))

    def audit_upload(batch: Batch) -> None:
        audit(session, f"{via}.upload", user_id=user.id, target_type="batch", target_id=batch.id,
              ip=request.remote_addr, hospital=hospital.code, filename=batch.original_filename,
              via=g.get("auth"))

    try:
        submission = pipeline.submit_batch(session, state().store, state().enqueue, hospital, stream, filename,
                                           uploader_id=user.id, idempotency_key=key, before_commit=audit_upload,
                                           express=express)
    except pipeline.EmptyUpload as exc:
        raise bad_request(str(exc)) from None
    except pipeline.IdempotencyConflict as exc:
        raise Problem(409, "Conflict", str(exc)) from None
    except pipeline.NotYetQueued as exc:
        # Committed: the sweep will queue it; a retry with the same Idempotency-Key answers this batch.
        raise Problem(503, "Service unavailable",
                      "the upload is stored and will be screened once the task queue is back",
                      retry_after=BROKER_RETRY_AFTER_S, batch_id=exc.batch_id) from None
    except BrokerUnavailable:
        raise Problem(503, "Service unavailable", "the task queue is briefly unavailable",
                      retry_after=BROKER_RETRY_AFTER_S) from None
    return submission.batch, submission.created
