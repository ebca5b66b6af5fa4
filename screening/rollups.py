"""Roll-ups written when a batch finishes: counters, patients' latest risk, daily summaries.

Everything here is recomputed from the rows, never incremented, so finalizing a
batch twice (a redelivered task) gives the same numbers. Dashboards read the
small daily summary table instead of scanning predictions.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from screening.db.models import (
    Batch, DailyHospitalSummary, Image, Patient, Prediction, Quality, Report, RiskClass,
)
from screening.upserts import insert_ignore

SCREENABLE = (Quality.ACCEPTED, Quality.WARNING)


def recount_ingest(session: Session, batch: Batch) -> None:
    counts = dict(session.execute(select(Image.quality, func.count()).where(Image.batch_id == batch.id)
                                  .group_by(Image.quality)).all())
    batch.files_total = sum(counts.values())
    batch.accepted = counts.get(Quality.ACCEPTED, 0) + counts.get(Quality.WARNING, 0)
    batch.rejected = counts.get(Quality.REJECTED, 0)
    batch.duplicates = counts.get(Quality.DUPLICATE, 0)


def finalize_counts(session: Session, batch: Batch) -> list[str]:
    """Recount the batch's counters; return one line per thing that failed."""
    recount_ingest(session, batch)
    batch.screened = session.scalar(select(func.count()).select_from(Prediction).where(
        Prediction.batch_id == batch.id, Prediction.model_version_id == batch.model_version_id)) or 0
    failed_images = session.execute(select(Image.filename, Image.error).where(
        Image.batch_id == batch.id, Image.quality.in_(SCREENABLE), Image.error.is_not(None))).all()
    batch.failed = len(failed_images)
    report_errors = session.execute(select(Report.patient_id, Report.error).where(
        Report.batch_id == batch.id, Report.error.is_not(None))).all()
    batch.reported = session.scalar(select(func.count()).select_from(Report).where(
        Report.batch_id == batch.id, Report.error.is_(None))) or 0
    return ([f"{name}: {error}" for name, error in failed_images]
            + [f"report for patient #{pid}: {error}" for pid, error in report_errors])


def refresh_patients(session: Session, batch_id: str) -> None:
    """Each screened patient's latest risk: the highest-risk image of their newest batch."""
    batch = session.get(Batch, batch_id)
    rows = session.execute(
        select(Prediction.patient_id, func.max(Prediction.p_osteoporosis), func.max(
            case((Prediction.referred, 1), else_=0)))
        .where(Prediction.batch_id == batch_id, Prediction.model_version_id == batch.model_version_id)
        .group_by(Prediction.patient_id)).all()
    for patient_id, risk, referred in rows:
        patient = session.get(Patient, patient_id)
        if patient.latest_screened_at is not None and _aware(patient.latest_screened_at) > _aware(batch.created_at):
            continue  # a newer batch already set this patient's latest result
        worst = session.scalar(select(Prediction.predicted_class).where(
            Prediction.batch_id == batch_id, Prediction.patient_id == patient_id,
            Prediction.model_version_id == batch.model_version_id)
            .order_by(Prediction.p_osteoporosis.desc()).limit(1))
        patient.latest_class = RiskClass(worst)
        patient.latest_risk = risk
        patient.latest_referred = bool(referred)
        patient.latest_screened_at = batch.created_at
        patient.latest_model_version_id = batch.model_version_id


def refresh_daily_summary(session: Session, hospital_id: int, day: date) -> None:
    """Recompute the hospital's summary row for ``day`` from all of that day's batches."""
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    batch_ids = select(Batch.id).where(Batch.hospital_id == hospital_id, Batch.created_at >= start,
                                       Batch.created_at < start + timedelta(days=1))
    by_class = dict(session.execute(select(Prediction.predicted_class, func.count()).where(
        Prediction.batch_id.in_(batch_ids)).group_by(Prediction.predicted_class)).all())
    referred = session.scalar(select(func.count()).select_from(Prediction).where(
        Prediction.batch_id.in_(batch_ids), Prediction.referred.is_(True))) or 0
    images = dict(session.execute(select(Image.quality, func.count()).where(
        Image.batch_id.in_(batch_ids)).group_by(Image.quality)).all())
    counts = {c.value: by_class.get(c, 0) for c in RiskClass}
    row = dict(hospital_id=hospital_id, day=day, screened=sum(counts.values()), referred=referred,
               rejected=images.get(Quality.REJECTED, 0), files=sum(images.values()), **counts)
    insert_ignore(session, DailyHospitalSummary, [row], ("hospital_id", "day"), update=True)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
