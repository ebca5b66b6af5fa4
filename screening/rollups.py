"""Roll-ups written when a batch finishes: counters, patients' latest risk, daily summaries.

Everything here is recomputed from the rows, never incremented, so finalizing a
batch twice (a redelivered task) gives the same numbers. Dashboards read the
small daily summary table instead of scanning predictions.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from screening.db.models import (
    Batch,
    DailyHospitalSummary,
    Image,
    Patient,
    Prediction,
    Quality,
    Report,
    RiskClass,
)
from screening.population import not_eligible
from screening.results import overall_result
from screening.upserts import insert_ignore
from screening.vocabulary import SCREENABLE

logger = logging.getLogger(__name__)


def recount_ingest(session: Session, batch: Batch) -> None:
    """Files by outcome; ``accepted`` are the images that go to the model, ``not_eligible`` those that never do."""
    counts = dict(session.execute(select(Image.quality, func.count()).where(Image.batch_id == batch.id)
                                  .group_by(Image.quality)).all())
    batch.files_total = sum(counts.values())
    batch.not_eligible = session.scalar(select(func.count()).select_from(Image).where(
        Image.batch_id == batch.id, not_eligible())) or 0
    batch.accepted = counts.get(Quality.ACCEPTED, 0) + counts.get(Quality.WARNING, 0) - batch.not_eligible
    batch.rejected = counts.get(Quality.REJECTED, 0)
    batch.duplicates = counts.get(Quality.DUPLICATE, 0)


def recount_screening(session: Session, batch: Batch) -> int:
    """Recount screened and failed images; returns how many accepted images still wait for screening."""
    batch.screened = session.scalar(select(func.count()).select_from(Prediction).where(
        Prediction.batch_id == batch.id, Prediction.model_version_id == batch.model_version_id)) or 0
    batch.failed = session.scalar(select(func.count()).select_from(Image).where(
        Image.batch_id == batch.id, Image.quality.in_(SCREENABLE), Image.error.is_not(None))) or 0
    return batch.accepted - batch.screened - batch.failed


def recount_reports(session: Session, batch: Batch) -> None:
    batch.reported = session.scalar(select(func.count()).select_from(Report).where(
        Report.batch_id == batch.id, Report.error.is_(None))) or 0


def finalize_counts(session: Session, batch: Batch) -> list[tuple[str | None, str]]:
    """Recount the batch's counters; return (file name or None, message) for each thing that failed."""
    recount_ingest(session, batch)
    recount_screening(session, batch)
    recount_reports(session, batch)
    failed_images = session.execute(select(Image.filename, Image.error).where(
        Image.batch_id == batch.id, Image.quality.in_(SCREENABLE), Image.error.is_not(None))).all()
    report_errors = session.execute(select(Report.patient_id, Report.error).where(
        Report.batch_id == batch.id, Report.error.is_not(None))).all()
    problems: list[tuple[str | None, str]] = [(name, error or "") for name, error in failed_images]
    return problems + [(None, f"report for patient #{pid}: {error}") for pid, error in report_errors]


def refresh_patients(session: Session, batch_id: str) -> None:
    """Each screened patient's latest result: the overall result of their newest batch.

    The class and risk are those of :func:`screening.results.overall_result`, the
    rule the patient's report and the batch summary use; referred when any image is.
    """
    batch = session.get_one(Batch, batch_id)
    by_patient: dict[int, list[Prediction]] = {}
    for prediction in session.scalars(select(Prediction).where(
            Prediction.batch_id == batch_id, Prediction.model_version_id == batch.model_version_id,
            Prediction.patient_id.is_not(None))):
        if prediction.patient_id is not None:
            by_patient.setdefault(prediction.patient_id, []).append(prediction)
    for patient_id, predictions in by_patient.items():
        patient = session.get_one(Patient, patient_id)
        if patient.latest_screened_at is not None and _aware(patient.latest_screened_at) > _aware(batch.created_at):
            continue  # a newer batch already set this patient's latest result
        overall = overall_result(predictions)
        if overall is None:
            continue
        patient.latest_class = RiskClass(overall.predicted_class)
        patient.latest_risk = overall.p_osteoporosis
        patient.latest_referred = any(p.referred for p in predictions)
        patient.latest_screened_at = batch.created_at
        patient.latest_model_version_id = batch.model_version_id
    logger.info("batch=%s patients refreshed=%d", batch_id, len(by_patient))


def refresh_daily_summary(session: Session, hospital_id: int, day: date) -> None:
    """Recompute the hospital's summary row for ``day`` from all of that day's batches."""
    batch_ids = select(Batch.id).where(Batch.hospital_id == hospital_id,
                                       *batches_of_days(Batch.created_at, day, day))
    by_class = dict(session.execute(select(Prediction.predicted_class, func.count()).where(
        Prediction.batch_id.in_(batch_ids)).group_by(Prediction.predicted_class)).all())
    referred = session.scalar(select(func.count()).select_from(Prediction).where(
        Prediction.batch_id.in_(batch_ids), Prediction.referred.is_(True))) or 0
    images = dict(session.execute(select(Image.quality, func.count()).where(
        Image.batch_id.in_(batch_ids)).group_by(Image.quality)).all())
    outside = session.scalar(select(func.count()).select_from(Image).where(
        Image.batch_id.in_(batch_ids), not_eligible())) or 0
    counts = {c.value: by_class.get(c, 0) for c in RiskClass}
    row = dict(hospital_id=hospital_id, day=day, screened=sum(counts.values()), referred=referred,
               rejected=images.get(Quality.REJECTED, 0), not_eligible=outside, files=sum(images.values()),
               **counts)
    insert_ignore(session, DailyHospitalSummary, [row], ("hospital_id", "day"), update=True)


def summary_day(uploaded_at: datetime) -> date:
    """The summary day of a batch uploaded at ``uploaded_at``: its UTC date, whatever the session's zone."""
    return _aware(uploaded_at).astimezone(UTC).date()


def utc_day_start(day: date) -> datetime:
    """Midnight UTC of ``day``: summary days are UTC days of the batches' upload time."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def batches_of_days(created_at: Any, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    """Conditions on a batch's upload time that select the summary days ``first``..``last``.

    Bounds are explicit UTC instants: a bare date would be read in the database
    session's time zone, and then figures and the batches behind them disagree.
    """
    conditions = []
    if first is not None:
        conditions.append(created_at >= utc_day_start(first))
    if last is not None:
        conditions.append(created_at < utc_day_start(last + timedelta(days=1)))
    return conditions


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
