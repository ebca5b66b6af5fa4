"""The steps of a batch, callable without Celery.

    accept_upload → ingest → screen_chunk × N → render_report × patients → finalize

Each step takes ids, reads what it needs from the database and object store,
writes idempotently (stable object keys, unique rows, recounted counters), and
hands the next steps to ``ctx.enqueue(task_name, args)``: Celery's ``send_task``
in production, an in-process queue in the embedded default. A step that runs
twice (a killed worker's task redelivered) changes nothing the second time.
Status moves only through conditional updates, so when two chunks finish at
once exactly one of them starts the reports.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import IO, TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from screening.archives import ArchiveError, ArchiveLimits, iter_archive
from screening.config import Settings
from screening.db.models import Batch, BatchStatus, Hospital, Image, Prediction, Report, new_id
from screening.db.session import session_scope
from screening.chunks import screen_images
from screening.ingest import IngestState, find_manifest, ingest_item
from screening.rollups import (
    finalize_counts, recount_ingest, refresh_daily_summary, refresh_patients, summary_day,
)
from screening.storage import ObjectStore
from screening.upserts import insert_ignore
from screening.vocabulary import COMPLETED_STATUSES, SCREENABLE

if TYPE_CHECKING:  # TensorFlow is imported only by processes that screen
    from screening.model.inference import Predictor

INGEST = "osteo.ingest"
SCREEN_CHUNK = "osteo.screen_chunk"
RENDER_REPORT = "osteo.render_report"
FINALIZE = "osteo.finalize"
QUEUES = {INGEST: "ingest", SCREEN_CHUNK: "inference", RENDER_REPORT: "reports", FINALIZE: "reports"}

Enqueue = Callable[[str, tuple], None]


@dataclass
class PipelineContext:
    """What every step needs; heavy parts (model, renderer) load on first use, once per process."""

    settings: Settings
    store: ObjectStore
    enqueue: Enqueue
    load_predictor: Callable[[], Predictor] | None = None
    reports_enabled: bool = True

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @cached_property
    def predictor(self) -> Predictor:
        if self.load_predictor is None:
            raise RuntimeError("this process has no model: it does not serve the inference queue")
        return self.load_predictor()

    @cached_property
    def renderer(self):  # type: ignore[no-untyped-def]
        from screening.reports.render import ReportRenderer

        return ReportRenderer()


# --- upload ---------------------------------------------------------------------------


def accept_upload(session: Session, store: ObjectStore, hospital: Hospital, stream: IO[bytes],
                  filename: str, uploader_id: int | None = None, idempotency_key: str | None = None) -> tuple[Batch, bool]:
    """Store the archive, then add its batch row; returns (batch, created).

    The archive is in the object store before the row exists, so a committed
    batch always has its archive. The caller commits, then enqueues INGEST.
    """
    if idempotency_key:
        existing = session.scalar(select(Batch).where(Batch.hospital_id == hospital.id,
                                                      Batch.idempotency_key == idempotency_key))
        if existing is not None:
            return existing, False
    batch_id = new_id()
    suffix = "".join(Path(filename).suffixes[-2:]).lower() or ".zip"
    key = f"uploads/{hospital.code}/{batch_id}{suffix if suffix in {'.zip', '.tar', '.tar.gz', '.tgz'} else '.bin'}"
    store.put_stream(key, stream, "application/octet-stream")
    batch = Batch(id=batch_id, hospital_id=hospital.id, uploader_id=uploader_id, archive_key=key,
                  original_filename=Path(filename).name[:255], idempotency_key=idempotency_key)
    session.add(batch)
    session.flush()
    return batch, True


# --- ingest ---------------------------------------------------------------------------


def ingest(ctx: PipelineContext, batch_id: str) -> None:
    """Read the archive, judge and store every file, enqueueing screening chunks as they fill.

    Chunks start while the rest of the archive is still being read, so ingest and
    inference overlap. A redelivered ingest keeps the rows of the killed attempt
    and re-enqueues only chunks of images still lacking a prediction.
    """
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status not in (BatchStatus.QUEUED, BatchStatus.INGESTING):
            return  # already ingested (a redelivered task) or unknown
        batch.status = BatchStatus.INGESTING
        batch.started_at = batch.started_at or _now()
        archive_key = batch.archive_key
    with tempfile.TemporaryDirectory(prefix="osteo-ingest-") as tmp:
        path = Path(tmp) / "archive"
        with ctx.store.open(archive_key) as source, open(path, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        try:
            _ingest_file(ctx, batch_id, path)
        except ArchiveError as exc:
            _fail_batch(ctx, batch_id, f"the upload is not a readable archive: {exc}")
            return
    _advance_if_screened(ctx, batch_id)


def _limits(settings: Settings) -> ArchiveLimits:
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
        self.session.commit()  # the rows the chunk reads exist before the task does
        self.ctx.enqueue(SCREEN_CHUNK, (self.batch.id, chunk))


def _ingest_file(ctx: PipelineContext, batch_id: str, path: Path) -> None:
    limits = _limits(ctx.settings)
    manifest = find_manifest(path, limits)
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        state = IngestState(batch=batch, hospital=session.get(Hospital, batch.hospital_id), manifest=manifest)
        earlier = {img.filename: img for img in session.scalars(select(Image).where(Image.batch_id == batch_id))}
        predicted = set(session.scalars(select(Prediction.image_id).where(Prediction.batch_id == batch_id)))
        state.seen.update({img.sha256: img.id for img in earlier.values() if img.sha256 and img.quality in SCREENABLE})
        planner = _ChunkPlanner(ctx, session, batch)
        names: set[str] = set()
        for item in iter_archive(path, limits):
            image = earlier.get(item.name) or ingest_item(session, ctx.store, ctx.settings.pseudonym_secret, state, item)
            if image is None:
                continue
            names.add(image.filename)
            if image.quality in SCREENABLE and image.id not in predicted:
                planner.add(image.id)
        planner.flush()
        missing = sorted(set(manifest.rows) - names - {n.rsplit("/", 1)[-1] for n in names})
        problems = manifest.problems + [f"manifest names a missing file: {name}" for name in missing]
        batch.error = "\n".join(problems) or None
        recount_ingest(session, batch)
        batch.status = BatchStatus.SCREENING


def _fail_batch(ctx: PipelineContext, batch_id: str, message: str) -> None:
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        batch.status = BatchStatus.FAILED
        batch.error = message
        batch.finished_at = _now()


# --- screening ------------------------------------------------------------------------


def screen_chunk(ctx: PipelineContext, batch_id: str, image_ids: list[int]) -> None:
    """Predict + Grad-CAM for the chunk's images that have no prediction for this model yet."""
    from screening.model_registry import register_model_version

    predictor = ctx.predictor
    version = predictor.bundle.version
    with session_scope(ctx.database_url) as session:
        register_model_version(session, predictor.bundle)
        session.execute(update(Batch).where(Batch.id == batch_id, Batch.model_version_id.is_(None))
                        .values(model_version_id=version))
        done = set(session.scalars(select(Prediction.image_id).where(Prediction.image_id.in_(image_ids),
                                                                     Prediction.model_version_id == version)))
        todo = [img for img in session.scalars(select(Image).where(Image.id.in_(image_ids)).order_by(Image.id))
                if img.id not in done]
    if todo:
        rows, errors = screen_images(ctx.store, predictor, todo)
        with session_scope(ctx.database_url) as session:
            insert_ignore(session, Prediction, rows, ("image_id", "model_version_id"))
            _record_image_errors(session, errors)
    _advance_if_screened(ctx, batch_id)


def _record_image_errors(session: Session, errors: dict[int, str]) -> None:
    for image_id, message in errors.items():
        session.execute(update(Image).where(Image.id == image_id).values(error=message))


def _advance_if_screened(ctx: PipelineContext, batch_id: str) -> None:
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        screened = session.scalar(select(func.count()).select_from(Prediction).where(
            Prediction.batch_id == batch_id, Prediction.model_version_id == batch.model_version_id))
        batch.screened = screened
        batch.failed = session.scalar(select(func.count()).select_from(Image).where(
            Image.batch_id == batch_id, Image.quality.in_(SCREENABLE), Image.error.is_not(None)))
        pending = batch.accepted - batch.screened - batch.failed
    if pending <= 0:
        _advance_to_reports(ctx, batch_id)


def _advance_to_reports(ctx: PipelineContext, batch_id: str) -> None:
    """Exactly one caller wins the SCREENING → REPORTING move and enqueues the reports."""
    with session_scope(ctx.database_url) as session:
        moved = session.execute(update(Batch).where(Batch.id == batch_id, Batch.status == BatchStatus.SCREENING)
                                .values(status=BatchStatus.REPORTING)).rowcount
        patients = _patients_with_results(session, batch_id) if ctx.reports_enabled else []
        if moved:
            session.get(Batch, batch_id).reports_total = len(patients)
    if not moved:
        return
    for patient_id in patients:
        ctx.enqueue(RENDER_REPORT, (patient_id, batch_id))
    if not patients:
        ctx.enqueue(FINALIZE, (batch_id,))


def _patients_with_results(session: Session, batch_id: str) -> list[int]:
    return list(session.scalars(select(Prediction.patient_id).where(Prediction.batch_id == batch_id)
                                .distinct().order_by(Prediction.patient_id)))


# --- reports --------------------------------------------------------------------------


def render_report(ctx: PipelineContext, patient_id: int, batch_id: str) -> None:
    """Render and store one patient's report; a failure is recorded, not raised."""
    values: dict = {"html_key": None, "pdf_key": None, "error": None}
    try:
        from screening.reports.context import build_patient_context
        from screening.reports.render import store_patient_report

        with session_scope(ctx.database_url) as session:
            report_ctx = build_patient_context(session, ctx.store, patient_id, batch_id)
            values["model_version_id"] = session.get(Batch, batch_id).model_version_id
        values["html_key"], values["pdf_key"] = store_patient_report(ctx.store, report_ctx, ctx.renderer)
    except Exception as exc:  # noqa: BLE001 - recorded on the report row and the batch
        values["error"] = f"report could not be rendered: {exc}"
    with session_scope(ctx.database_url) as session:
        insert_ignore(session, Report, [dict(patient_id=patient_id, batch_id=batch_id, created_at=_now(), **values)],
                      ("patient_id", "batch_id"), update=True)
        batch = session.get(Batch, batch_id)
        batch.reported = session.scalar(select(func.count()).select_from(Report).where(
            Report.batch_id == batch_id, Report.error.is_(None)))
        finished = session.scalar(select(func.count()).select_from(Report).where(Report.batch_id == batch_id))
        total = batch.reports_total
    if finished >= total:
        ctx.enqueue(FINALIZE, (batch_id,))


# --- finalize -------------------------------------------------------------------------


def finalize(ctx: PipelineContext, batch_id: str) -> None:
    """Counters, batch summary report, patients' latest risk, the hospital's daily summary."""
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status in COMPLETED_STATUSES:
            return
        errors = finalize_counts(session, batch)
        refresh_patients(session, batch_id)
        refresh_daily_summary(session, batch.hospital_id, summary_day(batch.created_at))
    finished_at = _now()  # printed in the summary, then stored on the batch
    summary_key = _store_summary(ctx, batch_id, finished_at) if ctx.reports_enabled else None
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        batch.summary_key = summary_key
        batch.status = BatchStatus.COMPLETE_WITH_ERRORS if errors else BatchStatus.COMPLETE
        batch.error = "\n".join(filter(None, [batch.error, *errors])) or None
        batch.finished_at = finished_at


def _store_summary(ctx: PipelineContext, batch_id: str, finished_at: datetime) -> str | None:
    from screening.reports.context import build_batch_summary_context
    from screening.reports.render import store_batch_summary

    with session_scope(ctx.database_url) as session:
        summary = build_batch_summary_context(session, batch_id, finished_at)
    html_key, _pdf_key, _csv_key = store_batch_summary(ctx.store, summary, ctx.renderer)
    return html_key


STEPS: dict[str, Callable[..., None]] = {
    INGEST: ingest, SCREEN_CHUNK: screen_chunk, RENDER_REPORT: render_report, FINALIZE: finalize,
}


def _now() -> datetime:
    return datetime.now(timezone.utc)
