"""Step 1, ingest: read the archive, judge and store every file, enqueue screening chunks as they fill.

Chunks start while the rest of the archive is still being read, so ingest and
inference overlap. A redelivered ingest keeps the rows of the killed attempt
(members get the same unique names in archive order) and re-enqueues only chunks
of images still lacking a prediction. One member that fails in a way nobody
foresaw is rejected with a reason and the rest go on; an unreadable archive
fails the batch with a reason; an outage is raised for the task's retry. Either
way the batch ends: it never waits in ``ingesting`` for something that will not come.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.anatomy.gate import load_gate
from screening.archives import ArchiveError, ArchiveLimits, Overflow, iter_archive
from screening.config import Settings
from screening.db.models import Batch, BatchStatus, Hospital, Image, Prediction, Quality
from screening.db.session import session_scope
from screening.faults import is_infrastructure_error
from screening.identity import identity_cipher
from screening.ingest import (
    IngestState,
    add_image,
    find_manifest,
    ingest_item,
    is_manifest,
    row_name,
)
from screening.pipeline import status
from screening.pipeline.context import PipelineContext
from screening.pipeline.names import SCREEN_CHUNK
from screening.pipeline.problems import Problem, replace_problems
from screening.pipeline.screen import advance_if_screened
from screening.pipeline.submit import publish
from screening.population import ScreeningPopulation, is_to_screen
from screening.rollups import recount_ingest
from screening.storage import ObjectNotFound
from screening.vocabulary import SCREENABLE

logger = logging.getLogger(__name__)

TOUCH_EVERY = 100  # members between two renewals of the batch's lease when no chunk fills


def ingest(ctx: PipelineContext, batch_id: str) -> None:
    """Ingest ``batch_id`` if it is queued (or was being ingested by a worker that died)."""
    with session_scope(ctx.database_url) as session:
        if not status.move(session, batch_id, (BatchStatus.QUEUED, BatchStatus.INGESTING), BatchStatus.INGESTING):
            logger.info("batch=%s ingest skipped: not queued", batch_id)
            return  # already ingested (a redelivered task) or unknown
        batch = session.get_one(Batch, batch_id)
        batch.started_at = batch.started_at or status.now()
        archive_key = batch.archive_key
    logger.info("batch=%s ingest started", batch_id)
    with tempfile.TemporaryDirectory(prefix="osteo-ingest-") as tmp:
        path = Path(tmp) / "archive"
        try:
            _download(ctx, archive_key, path)
            _ingest_file(ctx, batch_id, path)
        except ArchiveError as exc:
            _fail(ctx, batch_id, f"the upload is not a readable archive: {exc}")
        except ObjectNotFound:
            _fail(ctx, batch_id, "the uploaded archive is no longer stored: upload it again")
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise  # the task retries; the rows written so far are kept
            logger.exception("batch=%s ingest failed unexpectedly", batch_id)
            _fail(ctx, batch_id, "the archive could not be read (an unexpected error; the worker log has details)")
    drop_upload_if_due(ctx, batch_id)
    advance_if_screened(ctx, batch_id)


def _download(ctx: PipelineContext, archive_key: str | None, path: Path) -> None:
    if archive_key is None:
        raise ObjectNotFound("(dropped upload)")
    with ctx.store.open(archive_key) as source, open(path, "wb") as target:
        shutil.copyfileobj(source, target, 1024 * 1024)


def limits(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(max_files=settings.max_archive_files,
                         max_total_bytes=settings.max_archive_uncompressed_bytes,
                         max_compression_ratio=settings.max_compression_ratio)


class _ChunkPlanner:
    """Collects screenable image ids; each full chunk is committed, then enqueued."""

    def __init__(self, ctx: PipelineContext, session: Session, batch: Batch) -> None:
        self.ctx, self.session, self.batch = ctx, session, batch
        self.pending: list[int] = []
        self.batch.chunks_total = 0

    def add(self, image_id: int) -> None:
        self.pending.append(image_id)
        if len(self.pending) >= self.ctx.settings.chunk_size:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        chunk, self.pending = self.pending, []
        self.batch.chunks_total += 1
        recount_ingest(self.session, self.batch)
        status.touch(self.session, self.batch.id)
        self.session.commit()  # the rows the chunk reads exist before the task does
        publish(self.ctx.enqueue, SCREEN_CHUNK, (self.batch.id, chunk), self.batch.express)


def _ingest_file(ctx: PipelineContext, batch_id: str, path: Path) -> None:
    archive_limits = limits(ctx.settings)
    manifest = find_manifest(path, archive_limits)
    load_gate()  # once per process; a missing bundle fails here, not once per file
    with session_scope(ctx.database_url) as session:
        batch = session.get_one(Batch, batch_id)
        state = IngestState(batch=batch, hospital=session.get_one(Hospital, batch.hospital_id), manifest=manifest,
                            population=ScreeningPopulation.from_settings(ctx.settings),
                            cipher=identity_cipher(ctx.settings))
        earlier = {img.filename: img for img in session.scalars(select(Image).where(Image.batch_id == batch_id))}
        predicted = set(session.scalars(select(Prediction.image_id).where(Prediction.batch_id == batch_id)))
        state.seen.update({img.sha256: img.id for img in earlier.values() if img.sha256 and img.quality in SCREENABLE})
        planner = _ChunkPlanner(ctx, session, batch)
        members: list[str] = []
        problems: list[Problem] = [(None, text) for text in manifest.problems]
        for count, item in enumerate(iter_archive(path, archive_limits), start=1):
            if isinstance(item, Overflow):
                problems.append((None, item.reason))
                break
            if is_manifest(item.name):
                continue
            name = row_name(state, item.name)
            members.append(item.name)
            image = earlier.get(name) or _ingest_member(ctx, session, state, item, name)
            if image is not None and is_to_screen(image.quality, image.eligible) and image.error is None \
                    and image.id not in predicted:
                planner.add(image.id)
            if count % TOUCH_EVERY == 0:
                status.touch(session, batch_id)
                session.commit()
        planner.flush()
        problems += _missing_files(manifest, members)
        if not members and not manifest.present:
            problems.append((None, "the archive holds no files"))
        replace_problems(session, batch, problems, keep_existing=False)
        recount_ingest(session, batch)
        session.flush()
        status.move(session, batch_id, (BatchStatus.INGESTING,), BatchStatus.SCREENING)
    logger.info("batch=%s ingest done: %d members, %d problems", batch_id, len(members), len(problems))


def _ingest_member(ctx: PipelineContext, session: Session, state: IngestState, item, name: str) -> Image | None:  # type: ignore[no-untyped-def]
    """One member in its own savepoint: an unforeseen error rejects it alone, an outage is raised."""
    try:
        with session.begin_nested():
            return ingest_item(session, ctx.store, ctx.settings.pseudonym_secret, state, item, name)
    except Exception as exc:
        if is_infrastructure_error(exc):
            raise
        logger.exception("batch=%s member %d could not be ingested", state.batch.id, len(state.names))
    try:
        with session.begin_nested():
            return add_image(session, state, name, Quality.REJECTED,
                             "could not be read (an unexpected error; the worker log has details)")
    except Exception as exc:
        if is_infrastructure_error(exc):
            raise
        logger.exception("batch=%s member %d could not be recorded", state.batch.id, len(state.names))
        return None


def _missing_files(manifest, members: list[str]) -> list[Problem]:  # type: ignore[no-untyped-def]
    names = set(members) | {n.rsplit("/", 1)[-1] for n in members}
    listed = set(manifest.rows) | set(manifest.invalid)
    return [(name, "named in manifest.csv but not in the archive") for name in sorted(listed - names)]


def _fail(ctx: PipelineContext, batch_id: str, message: str) -> None:
    with session_scope(ctx.database_url) as session:
        batch = session.get_one(Batch, batch_id)
        replace_problems(session, batch, [(None, message)], keep_existing=False)
        session.flush()
        status.move(session, batch_id, (BatchStatus.QUEUED, BatchStatus.INGESTING), BatchStatus.FAILED)
    logger.warning("batch=%s failed: %s", batch_id, message)


def drop_upload_if_due(ctx: PipelineContext, batch_id: str) -> None:
    """Delete the raw upload once ingest is over, unless OSTEO_UPLOAD_RETENTION_HOURS keeps it a while.

    The raw archive holds what pseudonymisation removed (DICOM names and ids, the
    manifest's patient ids); the recovery sweep drops retained ones when they are due.
    """
    if ctx.settings.upload_retention_hours > 0:
        return
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.archive_key is None or batch.status in (BatchStatus.QUEUED, BatchStatus.INGESTING):
            return
        ctx.store.delete(batch.archive_key)
        batch.archive_key = None
    logger.info("batch=%s raw upload deleted", batch_id)
