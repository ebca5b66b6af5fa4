"""The recovery sweep: lost tasks enqueued again, retained uploads dropped, due deliveries published.

A batch is committed before its first task is published, so a broker outage at
that moment (or a task lost with a dead broker) leaves a batch nobody works on.
Every step renews ``Batch.progress_at``; a batch not finished whose lease is
older than OSTEO_STALL_SECONDS has no live task, and the sweep enqueues its next
step again. Claiming a batch is a conditional update of that lease, so several
workers may sweep at once and each batch is re-enqueued by exactly one. The
steps are idempotent, so a task that was merely slow costs only repeated work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update

from screening.db.models import Batch, BatchStatus, Image, Prediction, Report
from screening.db.session import session_scope
from screening.pipeline import status
from screening.pipeline.context import PipelineContext, now
from screening.pipeline.deliver import publish_due
from screening.pipeline.names import FINALIZE, INGEST, RENDER_REPORT, SCREEN_CHUNK
from screening.pipeline.screen import advance_if_screened, patients_with_results
from screening.pipeline.status import rowcount
from screening.pipeline.submit import publish
from screening.population import to_screen

logger = logging.getLogger(__name__)


def sweep(ctx: PipelineContext) -> list[str]:
    """One pass: re-enqueue stalled batches, drop retained uploads that are due; returns the batches re-enqueued."""
    recovered = [batch_id for batch_id in _stalled(ctx) if _claim(ctx, batch_id)]
    for batch_id in recovered:
        _resume(ctx, batch_id)
    _drop_due_uploads(ctx)
    publish_due(ctx)  # deliveries whose next try is due, and ones a dead worker left 'sending'
    return recovered


def _stalled(ctx: PipelineContext) -> list[str]:
    cutoff = now() - timedelta(seconds=ctx.settings.stall_seconds)
    with session_scope(ctx.database_url) as session:
        return list(session.scalars(select(Batch.id).where(
            Batch.status.in_(status.ACTIVE), func.coalesce(Batch.progress_at, Batch.created_at) < cutoff)
            .order_by(Batch.created_at).limit(100)))


def _claim(ctx: PipelineContext, batch_id: str) -> bool:
    """Renew the lease only if it is still stale: exactly one sweeper wins each batch."""
    cutoff = now() - timedelta(seconds=ctx.settings.stall_seconds)
    with session_scope(ctx.database_url) as session:
        claimed = session.execute(update(Batch).where(
            Batch.id == batch_id, Batch.status.in_(status.ACTIVE),
            or_(Batch.progress_at < cutoff, and_(Batch.progress_at.is_(None), Batch.created_at < cutoff)))
            .values(progress_at=now()))
        return rowcount(claimed) == 1


def _resume(ctx: PipelineContext, batch_id: str) -> None:
    """Enqueue what the batch is waiting for, according to its status."""
    with session_scope(ctx.database_url) as session:
        batch = session.get_one(Batch, batch_id)
        state, express = batch.status, batch.express
        unscreened = list(session.scalars(select(Image.id).where(
            Image.batch_id == batch_id, to_screen(), Image.error.is_(None),
            Image.id.not_in(select(Prediction.image_id).where(Prediction.batch_id == batch_id)))
            .order_by(Image.id))) if state is BatchStatus.SCREENING else []
        unreported = []
        if state is BatchStatus.REPORTING and ctx.reports_enabled:
            done = set(session.scalars(select(Report.patient_id).where(Report.batch_id == batch_id)))
            unreported = [p for p in patients_with_results(session, batch_id) if p not in done]
    logger.warning("batch=%s stalled in %s: enqueued again by the recovery sweep", batch_id, state.value)
    if state in (BatchStatus.QUEUED, BatchStatus.INGESTING):
        publish(ctx.enqueue, INGEST, (batch_id,), express)
    elif state is BatchStatus.SCREENING:
        size = ctx.settings.chunk_size
        for start in range(0, len(unscreened), size):
            publish(ctx.enqueue, SCREEN_CHUNK, (batch_id, unscreened[start:start + size]), express)
        if not unscreened:
            advance_if_screened(ctx, batch_id)
    elif unreported:
        for patient_id in unreported:
            publish(ctx.enqueue, RENDER_REPORT, (patient_id, batch_id), express)
    else:
        publish(ctx.enqueue, FINALIZE, (batch_id,), express)


def _drop_due_uploads(ctx: PipelineContext) -> None:
    """Delete raw uploads of ingested batches once OSTEO_UPLOAD_RETENTION_HOURS have passed (0: at once)."""
    cutoff = now() - timedelta(hours=ctx.settings.upload_retention_hours)
    with session_scope(ctx.database_url) as session:
        due = session.execute(select(Batch.id, Batch.archive_key).where(
            Batch.archive_key.is_not(None), Batch.status.not_in([BatchStatus.QUEUED, BatchStatus.INGESTING]),
            func.coalesce(Batch.progress_at, Batch.created_at) < cutoff).limit(100)).all()
    for batch_id, key in due:
        if key:
            ctx.store.delete(key)
        with session_scope(ctx.database_url) as session:
            session.execute(update(Batch).where(Batch.id == batch_id).values(archive_key=None))
        logger.info("batch=%s raw upload deleted (retention over)", batch_id)
