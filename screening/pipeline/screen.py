"""Step 2, screen_chunk: predict + Grad-CAM for one chunk, then move the batch on when all are done."""

from __future__ import annotations

import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from screening.chunks import screen_images
from screening.db.models import Batch, BatchStatus, Image, Prediction
from screening.db.session import session_scope
from screening.faults import is_infrastructure_error
from screening.pipeline import status
from screening.pipeline.context import PipelineContext
from screening.pipeline.names import FINALIZE, RENDER_REPORT
from screening.pipeline.submit import publish
from screening.population import to_screen
from screening.rollups import recount_screening
from screening.upserts import insert_ignore

logger = logging.getLogger(__name__)


def screen_chunk(ctx: PipelineContext, batch_id: str, image_ids: list[int]) -> None:
    """Predict + Grad-CAM for the chunk's images that have no prediction for this model yet."""
    from screening.followup.operating_points import batch_thresholds
    from screening.model_registry import ModelUnavailable, register_model_version, wanted_version

    with session_scope(ctx.database_url) as session:
        pinned = session.scalar(select(Batch.model_version_id).where(Batch.id == batch_id))
        wanted = wanted_version(session, pinned)
    try:
        predictor = ctx.predictor_for(wanted)
    except ModelUnavailable as exc:
        if pinned:
            _fail_chunk(ctx, batch_id, image_ids, f"the batch's model {pinned} is not available: {exc}")
            return
        logger.warning("batch=%s active model %s cannot be loaded here (%s); using %s", batch_id, wanted, exc,
                       ctx.predictor.bundle.version)
        predictor = ctx.predictor
    version = predictor.bundle.version
    with session_scope(ctx.database_url) as session:
        register_model_version(session, predictor.bundle)
        session.execute(update(Batch).where(Batch.id == batch_id, Batch.model_version_id.is_(None))
                        .values(model_version_id=version))
        pinned = session.scalar(select(Batch.model_version_id).where(Batch.id == batch_id))
    if pinned != version:  # another worker started this batch with another model a moment ago
        try:
            predictor = ctx.predictor_for(pinned)
        except ModelUnavailable as exc:
            _fail_chunk(ctx, batch_id, image_ids, f"the batch's model {pinned} is not available: {exc}")
            return
        version = predictor.bundle.version
    with session_scope(ctx.database_url) as session:
        done = set(session.scalars(select(Prediction.image_id).where(Prediction.image_id.in_(image_ids),
                                                                     Prediction.model_version_id == version)))
        todo = [img for img in session.scalars(select(Image).where(Image.id.in_(image_ids), to_screen())
                                               .order_by(Image.id)) if img.id not in done]
    if todo:
        with session_scope(ctx.database_url) as session:
            thresholds = batch_thresholds(session, batch_id, predictor.card.refer_threshold)
        try:
            rows, errors = screen_images(ctx.store, predictor, todo)
            rows = [thresholds.judge(row) for row in rows]
        except Exception as exc:
            if is_infrastructure_error(exc):
                raise  # retried: an outage never fails an image
            logger.exception("batch=%s chunk of %d images failed as a whole", batch_id, len(todo))
            rows, errors = [], {img.id: "could not be screened (an unexpected error; the worker log has details)"
                                for img in todo}
        with session_scope(ctx.database_url) as session:
            insert_ignore(session, Prediction, rows, ("image_id", "model_version_id"))
            _record_image_errors(session, errors)
            status.touch(session, batch_id)
        logger.info("batch=%s chunk screened: %d images, %d failed, ids %s", batch_id, len(rows), len(errors),
                    [img.id for img in todo])
    advance_if_screened(ctx, batch_id)


def _fail_chunk(ctx: PipelineContext, batch_id: str, image_ids: list[int], message: str) -> None:
    """Mark the chunk's images failed with ``message`` (the batch then finishes with errors, never waits)."""
    logger.error("batch=%s chunk of %d images not screened: %s", batch_id, len(image_ids), message)
    with session_scope(ctx.database_url) as session:
        _record_image_errors(session, {image_id: message for image_id in image_ids})
        status.touch(session, batch_id)
    advance_if_screened(ctx, batch_id)


def _record_image_errors(session: Session, errors: dict[int, str]) -> None:
    for image_id, message in errors.items():
        session.execute(update(Image).where(Image.id == image_id).values(error=message))


def advance_if_screened(ctx: PipelineContext, batch_id: str) -> None:
    """When every accepted image has a prediction or an error, move the batch to its reports."""
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status is not BatchStatus.SCREENING:
            return
        pending = recount_screening(session, batch)
    if pending <= 0:
        advance_to_reports(ctx, batch_id)


def advance_to_reports(ctx: PipelineContext, batch_id: str) -> None:
    """Exactly one caller wins the SCREENING → REPORTING move and enqueues the reports."""
    with session_scope(ctx.database_url) as session:
        patients = patients_with_results(session, batch_id) if ctx.reports_enabled else []
        express = session.get_one(Batch, batch_id).express
        moved = status.move(session, batch_id, (BatchStatus.SCREENING,), BatchStatus.REPORTING,
                            reports_total=len(patients))
    if not moved:
        return
    logger.info("batch=%s screened; %d reports to render", batch_id, len(patients))
    enqueue_reports(ctx, batch_id, patients, express)


def enqueue_reports(ctx: PipelineContext, batch_id: str, patients: list[int], express: bool) -> None:
    for patient_id in patients:
        publish(ctx.enqueue, RENDER_REPORT, (patient_id, batch_id), express)
    if not patients:
        publish(ctx.enqueue, FINALIZE, (batch_id,), express)


def patients_with_results(session: Session, batch_id: str) -> list[int]:
    return list(session.scalars(select(Prediction.patient_id).where(Prediction.batch_id == batch_id)
                                .distinct().order_by(Prediction.patient_id)))
