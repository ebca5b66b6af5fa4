"""Results back into the hospital's systems: one delivery per finished batch and destination.

When a batch that came in over DICOM finishes with results, :func:`plan` adds a
``pending`` delivery for each of its hospital's active destinations, in the same
transaction as the batch's final status, and :func:`publish_due` publishes them.
:func:`deliver` claims one (a conditional update: exactly one worker sends it),
builds the batch's SR, Secondary Capture and Encapsulated PDF objects
(:mod:`screening.interop.outputs`) and sends them (:mod:`screening.interop.send`).

A failed try is recorded with its reason and tried again after a backoff that
doubles (``OSTEO_DELIVERY_BACKOFF_SECONDS``, 2×, 4× …) until
``OSTEO_DELIVERY_ATTEMPTS`` tries have failed; then the delivery is ``failed`` and
stays so until someone presses resend (:func:`resend`). Each destination retries on
its own schedule. The recovery sweep publishes deliveries whose next try is due and
takes back ones left ``sending`` by a dead worker. Object UIDs are deterministic, so
a resend replaces what an earlier partial try stored instead of duplicating it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from screening.db.models import (
    Batch,
    DeliveryState,
    DestinationKind,
    DicomDelivery,
    DicomDestination,
    DicomSource,
)
from screening.db.session import session_scope
from screening.faults import is_infrastructure_error
from screening.pipeline.context import PipelineContext, now
from screening.pipeline.names import DELIVER
from screening.pipeline.status import rowcount
from screening.pipeline.submit import publish
from screening.safe_text import clean, public_reason
from screening.sealing import Sealer

logger = logging.getLogger(__name__)

REASON_CHARS = 1000


def plan(session: Session, batch: Batch) -> None:
    """Add a pending delivery per active destination, when the batch has DICOM sources and results."""
    if batch.screened == 0 or not session.scalar(select(exists().where(DicomSource.batch_id == batch.id))):
        return
    planned = set(session.scalars(select(DicomDelivery.destination_id).where(DicomDelivery.batch_id == batch.id)))
    for destination in session.scalars(select(DicomDestination).where(
            DicomDestination.hospital_id == batch.hospital_id, DicomDestination.active.is_(True))):
        if destination.id not in planned:
            session.add(DicomDelivery(batch_id=batch.id, destination_id=destination.id, state=DeliveryState.PENDING,
                                      next_attempt_at=now()))
    session.flush()


def publish_due(ctx: PipelineContext, batch_id: str | None = None) -> list[int]:
    """Publish every pending delivery whose try is due (of one batch, or all); returns their ids."""
    moment = now()
    with session_scope(ctx.database_url) as session:
        stale = moment - timedelta(seconds=ctx.settings.stall_seconds)
        # A worker that died while sending left the row 'sending': it is due again.
        session.execute(update(DicomDelivery).where(DicomDelivery.state == DeliveryState.SENDING,
                                                    DicomDelivery.updated_at < stale)
                        .values(state=DeliveryState.PENDING, next_attempt_at=moment, updated_at=moment))
        query = select(DicomDelivery.id).where(
            DicomDelivery.state == DeliveryState.PENDING,
            or_(DicomDelivery.next_attempt_at.is_(None), DicomDelivery.next_attempt_at <= moment))
        if batch_id is not None:
            query = query.where(DicomDelivery.batch_id == batch_id)
        due = list(session.scalars(query.order_by(DicomDelivery.id).limit(200)))
    for delivery_id in due:
        publish(ctx.enqueue, DELIVER, (delivery_id,))
    return due


def deliver(ctx: PipelineContext, delivery_id: int) -> None:
    """Send one batch's results to one destination, if its try is due and nobody else is sending it."""
    from screening.interop.outputs import batch_outputs
    from screening.interop.send import DeliveryError, Target, send

    if not _claim(ctx, delivery_id):
        logger.info("delivery=%s skipped: not due or already being sent", delivery_id)
        return
    try:
        with session_scope(ctx.database_url) as session:
            delivery = session.get_one(DicomDelivery, delivery_id)
            batch_id, destination = delivery.batch_id, delivery.destination
            target = Target(DestinationKind(destination.kind), destination.host, destination.port,
                            destination.ae_title, destination.url)
            datasets = batch_outputs(session, ctx.store, Sealer.from_settings(ctx.settings), batch_id)
    except Exception as exc:
        if is_infrastructure_error(exc):
            _release(ctx, delivery_id)
            raise  # the task retries once the database or object store is back
        logger.exception("delivery=%s results could not be built", delivery_id)
        _finish(ctx, delivery_id, DeliveryState.FAILED, f"the results could not be built: {public_reason(exc)}")
        return
    try:
        sent = send(target, datasets, ctx.settings.dicom_ae_title, ctx.settings.dicom_timeout_seconds)
    except DeliveryError as exc:
        _failed_try(ctx, delivery_id, str(exc))
        return
    _finish(ctx, delivery_id, DeliveryState.SENT, None, objects=sent)
    logger.info("delivery=%s batch=%s: %d objects sent to %s", delivery_id, batch_id, sent, target.address)


def resend(session: Session, delivery: DicomDelivery) -> None:
    """Start a delivery again from its first try (the caller commits, then publishes DELIVER)."""
    delivery.state, delivery.attempts, delivery.reason = DeliveryState.PENDING, 0, None
    delivery.next_attempt_at = delivery.updated_at = now()


def _claim(ctx: PipelineContext, delivery_id: int) -> bool:
    moment = now()
    with session_scope(ctx.database_url) as session:
        claimed = session.execute(update(DicomDelivery).where(
            DicomDelivery.id == delivery_id, DicomDelivery.state == DeliveryState.PENDING,
            or_(DicomDelivery.next_attempt_at.is_(None), DicomDelivery.next_attempt_at <= moment))
            .values(state=DeliveryState.SENDING, updated_at=moment))
        return rowcount(claimed) == 1


def _release(ctx: PipelineContext, delivery_id: int) -> None:
    """Give the claim back after an outage: the retried task claims it again."""
    try:
        with session_scope(ctx.database_url) as session:
            session.execute(update(DicomDelivery).where(and_(DicomDelivery.id == delivery_id,
                                                             DicomDelivery.state == DeliveryState.SENDING))
                            .values(state=DeliveryState.PENDING, next_attempt_at=now(), updated_at=now()))
    except Exception as exc:  # noqa: BLE001 - the database itself is down: the sweep takes the row back later
        logger.warning("delivery=%s claim not released: %s", delivery_id, type(exc).__name__)


def _failed_try(ctx: PipelineContext, delivery_id: int, reason: str) -> None:
    settings = ctx.settings
    with session_scope(ctx.database_url) as session:
        delivery = session.get_one(DicomDelivery, delivery_id)
        tries = delivery.attempts + 1
        if tries >= settings.delivery_attempts:
            state, next_at = DeliveryState.FAILED, None
            text = f"{reason} (gave up after {tries} tries; press resend once the destination is back)"
        else:
            state = DeliveryState.PENDING
            next_at = now() + timedelta(seconds=settings.delivery_backoff_seconds * 2 ** (tries - 1))
            text = f"{reason} (try {tries} of {settings.delivery_attempts}; next try at {next_at:%H:%M:%S} UTC)"
        delivery.state, delivery.attempts, delivery.next_attempt_at = state, tries, next_at
        delivery.reason, delivery.updated_at = clean(text, REASON_CHARS), now()
    logger.warning("delivery=%s try %d failed: %s", delivery_id, tries, reason)


def _finish(ctx: PipelineContext, delivery_id: int, state: DeliveryState, reason: str | None,
            objects: int = 0) -> None:
    with session_scope(ctx.database_url) as session:
        delivery = session.get_one(DicomDelivery, delivery_id)
        delivery.state, delivery.attempts, delivery.objects = state, delivery.attempts + 1, objects
        delivery.reason = clean(reason, REASON_CHARS) if reason else None
        delivery.next_attempt_at, delivery.updated_at = None, now()
        if state is DeliveryState.SENT:
            delivery.sent_at = now()
