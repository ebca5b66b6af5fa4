"""Read-side queries for the dashboards and the API.

Every function takes ``hospital_ids``: the set of hospitals the caller may see,
or ``None`` for all of them. Who may see what is decided by the web layer
(``web/authz.py``); this module only applies the set, so a query can never
forget the scope. Aggregates read the small per-day summary table, never the
predictions, so dashboards stay fast at millions of screenings.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select, true
from sqlalchemy.orm import Session

from screening.db.models import (
    Batch,
    DailyHospitalSummary,
    DicomDelivery,
    Hospital,
    Image,
    ModelVersion,
    Patient,
    Prediction,
    Report,
)
from screening.listing import Sort, Window, fetch, string_contains
from screening.population import not_eligible
from screening.rollups import batches_of_days
from screening.vocabulary import CLASS_RANK

HospitalIds = Collection[int] | None
LEVELS = ("hospital", "district", "region")


def in_scope(column: Any, hospital_ids: HospitalIds) -> ColumnElement[bool]:
    """SQL condition restricting ``column`` (a hospital id column) to ``hospital_ids``."""
    if hospital_ids is None:
        return true()
    return column.in_(list(hospital_ids)) if hospital_ids else literal(False)


def active_model_version(session: Session) -> ModelVersion | None:
    return session.scalar(select(ModelVersion).where(ModelVersion.active.is_(True)).limit(1))


def model_versions_by_id(session: Session, ids: Collection[str]) -> dict[str, ModelVersion]:
    wanted = [i for i in set(ids) if i]
    if not wanted:
        return {}
    return {mv.id: mv for mv in session.scalars(select(ModelVersion).where(ModelVersion.id.in_(wanted)))}


# --- batches ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchFilter:
    """Which batches to list; empty fields do not filter."""

    hospital_id: int | None = None
    status: str | None = None
    uploaded_from: date | None = None
    uploaded_to: date | None = None
    text: str | None = None  # part of the archive's file name


BATCH_SORTS: dict[str, Any] = {
    "uploaded": Batch.created_at, "file": Batch.original_filename, "hospital": Hospital.code, "status": Batch.status,
    "files": Batch.files_total, "screened": Batch.screened, "rejected": Batch.rejected,
    "not_eligible": Batch.not_eligible,
}
BATCH_DEFAULT_SORT = Sort("uploaded", descending=True)


def list_batches(session: Session, hospital_ids: HospitalIds, window: Window | None,
                 filters: BatchFilter = BatchFilter(), sort: Sort = BATCH_DEFAULT_SORT) -> tuple[list[Batch], int]:
    """The batches in scope that pass ``filters`` in ``sort`` order (newest first by default), and their total."""
    query = select(Batch).join(Hospital, Hospital.id == Batch.hospital_id).where(
        in_scope(Batch.hospital_id, hospital_ids))
    if filters.hospital_id is not None:
        query = query.where(Batch.hospital_id == filters.hospital_id)
    if filters.status:
        query = query.where(Batch.status == filters.status)
    query = query.where(*batches_of_days(Batch.created_at, filters.uploaded_from, filters.uploaded_to))
    if filters.text:
        query = query.where(string_contains(Batch.original_filename, filters.text))
    return fetch(session, query, sort, BATCH_SORTS, (Batch.id,), window)


def get_batch(session: Session, hospital_ids: HospitalIds, batch_id: str) -> Batch | None:
    return session.scalar(select(Batch).where(Batch.id == batch_id, in_scope(Batch.hospital_id, hospital_ids)))


@dataclass(frozen=True)
class ResultRow:
    """One file of a batch: its quality verdict and, if screened, the prediction."""

    image: Image
    prediction: Prediction | None
    patient: Patient | None


def _results_query(batch: Batch) -> Select:
    # One prediction per image: the batch's model version (re-screens with other models stay out).
    prediction_join = (Prediction.image_id == Image.id) & (Prediction.model_version_id == batch.model_version_id)
    return (select(Image, Prediction, Patient)
            .outerjoin(Prediction, prediction_join)
            .outerjoin(Patient, Patient.id == Image.patient_id)
            .where(Image.batch_id == batch.id))


RESULT_FILTERS = ("referred", "rejected", "not_eligible", "failed", "screened")
RESULT_SORTS: dict[str, Any] = {
    "file": Image.filename, "quality": Image.quality, "patient": Patient.pseudonym,
    "class": case({risk.value: rank for risk, rank in CLASS_RANK.items()}, value=Prediction.predicted_class),
    "risk": Prediction.p_osteoporosis, "referred": Prediction.referred,
}
RESULT_DEFAULT_SORT = Sort("file")


def batch_results(session: Session, batch: Batch, window: Window | None, only: str | None = None,
                  risk_class: str | None = None, text: str | None = None,
                  sort: Sort = RESULT_DEFAULT_SORT) -> tuple[list[ResultRow], int]:
    """The batch's files (in file-name order by default) and how many pass the filters.

    ``only``: referred, rejected (or duplicate), not_eligible, failed or screened;
    ``risk_class``: the predicted class; ``text``: part of the file name.
    """
    query = _results_query(batch)
    if only == "referred":
        query = query.where(Prediction.referred.is_(True))
    elif only == "rejected":
        query = query.where(Image.quality.in_(("rejected", "duplicate")))
    elif only == "not_eligible":
        query = query.where(not_eligible())
    elif only == "failed":
        query = query.where(Image.error.is_not(None))
    elif only == "screened":
        query = query.where(Prediction.id.is_not(None))
    if risk_class:
        query = query.where(Prediction.predicted_class == risk_class)
    if text:
        query = query.where(string_contains(Image.filename, text))
    rows, total = fetch(session, query, sort, RESULT_SORTS, (Image.id,), window)
    return [ResultRow(image, prediction, patient) for image, prediction, patient in rows], total


def batch_deliveries(session: Session, batch_id: str) -> list[DicomDelivery]:
    """Where the batch's results went back (one row per destination), in the order they were planned."""
    return list(session.scalars(select(DicomDelivery).where(DicomDelivery.batch_id == batch_id)
                                .order_by(DicomDelivery.id)))


def batch_reports(session: Session, batch_id: str) -> dict[int, Report]:
    """The batch's reports keyed by patient id."""
    return {r.patient_id: r for r in session.scalars(select(Report).where(Report.batch_id == batch_id))}


# --- patients ---------------------------------------------------------------------------


def find_patient(session: Session, hospital_ids: HospitalIds, pseudonym: str) -> Patient | None:
    return session.scalar(select(Patient).where(Patient.pseudonym == pseudonym,
                                                in_scope(Patient.hospital_id, hospital_ids)).limit(1))


def find_patients(session: Session, hospital_ids: HospitalIds, pseudonyms: Collection[str]) -> list[Patient]:
    """The visible patients having any of ``pseudonyms`` (a search; see web.authz.search_pseudonyms)."""
    if not pseudonyms:
        return []
    return list(session.scalars(select(Patient).where(Patient.pseudonym.in_(list(pseudonyms)),
                                                      in_scope(Patient.hospital_id, hospital_ids))
                                .order_by(Patient.id).limit(10)))


@dataclass(frozen=True)
class HistoryEntry:
    prediction: Prediction
    image: Image
    batch: Batch
    report: Report | None


def patient_history(session: Session, patient: Patient) -> list[HistoryEntry]:
    """Every prediction of the patient, oldest first, with the image, batch and that batch's report."""
    rows = session.execute(
        select(Prediction, Image, Batch, Report)
        .join(Image, Image.id == Prediction.image_id)
        .join(Batch, Batch.id == Prediction.batch_id)
        .outerjoin(Report, (Report.batch_id == Prediction.batch_id) & (Report.patient_id == patient.id))
        .where(Prediction.patient_id == patient.id)
        .order_by(Prediction.created_at, Prediction.id))
    return [HistoryEntry(*row) for row in rows]


def patient_not_eligible(session: Session, patient: Patient) -> list[Image]:
    """The patient's images kept out of screening (outside the screening population), oldest first."""
    return list(session.scalars(select(Image).where(Image.patient_id == patient.id, not_eligible())
                                .order_by(Image.created_at, Image.id)))


def patient_measurements(session: Session, patient: Patient) -> list[Image]:
    """The patient's images whose metacarpals were measured or refused (screened or not eligible), oldest first."""
    return list(session.scalars(select(Image).where(Image.patient_id == patient.id, Image.measured.is_not(None))
                                .order_by(Image.created_at, Image.id)))


@dataclass(frozen=True)
class PatientFilter:
    """Which screened patients to list; empty fields do not filter."""

    referred_only: bool = False
    risk_class: str | None = None
    sex: str | None = None
    hospital_id: int | None = None
    screened_from: date | None = None
    screened_to: date | None = None
    pseudonym: str | None = None  # the start of a pseudonym


PATIENT_SORTS: dict[str, Any] = {
    "screened": Patient.latest_screened_at, "risk": Patient.latest_risk, "hospital": Hospital.code,
    "class": case({risk.value: rank for risk, rank in CLASS_RANK.items()}, value=Patient.latest_class),
    "pseudonym": Patient.pseudonym,
}
PATIENT_DEFAULT_SORT = Sort("screened", descending=True)


def list_patients(session: Session, hospital_ids: HospitalIds, window: Window | None,
                  filters: PatientFilter = PatientFilter(),
                  sort: Sort = PATIENT_DEFAULT_SORT) -> tuple[list[Patient], int]:
    """Screened patients in scope (latest result first by default) and how many pass ``filters``."""
    query = select(Patient).join(Hospital, Hospital.id == Patient.hospital_id).where(
        in_scope(Patient.hospital_id, hospital_ids), Patient.latest_screened_at.is_not(None))
    if filters.referred_only:
        query = query.where(Patient.latest_referred.is_(True))
    if filters.risk_class:
        query = query.where(Patient.latest_class == filters.risk_class)
    if filters.sex:
        query = query.where(Patient.sex == filters.sex)
    if filters.hospital_id is not None:
        query = query.where(Patient.hospital_id == filters.hospital_id)
    query = query.where(*batches_of_days(Patient.latest_screened_at, filters.screened_from, filters.screened_to))
    if filters.pseudonym:
        query = query.where(Patient.pseudonym.startswith(filters.pseudonym.strip().upper()))
    return fetch(session, query, sort, PATIENT_SORTS, (Patient.id,), window)


# --- summaries --------------------------------------------------------------------------


@dataclass
class SummaryGroup:
    """Counts for one hospital, district or region over the selected days."""

    key: str
    label: str
    district: str | None = None
    region: str | None = None
    hospital_id: int | None = None
    hospitals: int = 0
    files: int = 0
    rejected: int = 0
    not_eligible: int = 0  # outside the screening population: neither screened nor negative
    screened: int = 0
    normal: int = 0
    osteopenia: int = 0
    osteoporosis: int = 0
    referred: int = 0

    @property
    def referral_rate(self) -> float | None:
        return self.referred / self.screened if self.screened else None

    @property
    def rejection_rate(self) -> float | None:
        return self.rejected / self.files if self.files else None

    def distribution(self) -> dict[str, float | None]:
        return {name: (getattr(self, name) / self.screened if self.screened else None)
                for name in ("normal", "osteopenia", "osteoporosis")}


@dataclass
class Summary:
    level: str
    start: date | None
    end: date | None
    groups: list[SummaryGroup]
    total: SummaryGroup
    trend: list[dict[str, Any]] = field(default_factory=list)
    model_version_ids: list[str] = field(default_factory=list)


_COUNTS = ("files", "rejected", "not_eligible", "screened", "normal", "osteopenia", "osteoporosis", "referred")


def filtered_hospitals(hospital_ids: HospitalIds, district: str | None, region: str | None) -> Select:
    query = select(Hospital.id).where(in_scope(Hospital.id, hospital_ids))
    if district:
        query = query.where(Hospital.district == district)
    if region:
        query = query.where(Hospital.region == region)
    return query


def _day_range(column: Any, start: date | None, end: date | None) -> list[ColumnElement[bool]]:
    conditions = []
    if start:
        conditions.append(column >= start)
    if end:
        conditions.append(column <= end)
    return conditions


def summarize(session: Session, hospital_ids: HospitalIds, level: str, start: date | None = None,
              end: date | None = None, district: str | None = None, region: str | None = None,
              with_trend: bool = True) -> Summary:
    """Screened counts, class distribution, referral and rejection rates per ``level`` group."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    hospitals = filtered_hospitals(hospital_ids, district, region)
    s = DailyHospitalSummary
    sums = [func.coalesce(func.sum(getattr(s, name)), 0).label(name) for name in _COUNTS]
    per_hospital = (select(s.hospital_id, *sums)
                    .where(s.hospital_id.in_(hospitals), *_day_range(s.day, start, end))
                    .group_by(s.hospital_id).subquery())
    rows = session.execute(
        select(Hospital.id, Hospital.code, Hospital.name, Hospital.district, Hospital.region,
               *[func.coalesce(getattr(per_hospital.c, name), 0).label(name) for name in _COUNTS])
        .outerjoin(per_hospital, per_hospital.c.hospital_id == Hospital.id)
        .where(Hospital.id.in_(hospitals))
        .order_by(Hospital.region, Hospital.district, Hospital.code)).all()
    groups = _group(rows, level)
    total = SummaryGroup(key="all", label="All visible hospitals", hospitals=len(rows))
    for row in rows:
        for name in _COUNTS:
            setattr(total, name, getattr(total, name) + int(getattr(row, name)))
    trend = _trend(session, hospitals, start, end) if with_trend else []
    versions = model_versions_in(session, hospitals, start, end)
    return Summary(level, start, end, groups, total, trend, versions)


def _group(rows: Sequence[Any], level: str) -> list[SummaryGroup]:
    groups: dict[str, SummaryGroup] = {}
    for row in rows:
        if level == "hospital":
            group = SummaryGroup(key=row.code, label=row.name, district=row.district, region=row.region,
                                 hospital_id=row.id)
            groups[row.code] = group
        else:
            key = row.district if level == "district" else row.region
            group = groups.setdefault(key, SummaryGroup(
                key=key, label=key, district=row.district if level == "district" else None, region=row.region))
        group.hospitals += 1
        for name in _COUNTS:
            setattr(group, name, getattr(group, name) + int(getattr(row, name)))
    return list(groups.values())


def _trend(session: Session, hospitals: Select, start: date | None, end: date | None) -> list[dict[str, Any]]:
    """Daily screened / referred / class counts over the scope, for the trend chart."""
    s = DailyHospitalSummary
    rows = session.execute(
        select(s.day, *[func.sum(getattr(s, name)).label(name) for name in _COUNTS])
        .where(s.hospital_id.in_(hospitals), *_day_range(s.day, start, end))
        .group_by(s.day).order_by(s.day)).all()
    return [{"day": row.day, **{name: int(getattr(row, name)) for name in _COUNTS}} for row in rows]


def model_versions_in(session: Session, hospitals: Select, start: date | None, end: date | None) -> list[str]:
    """Model versions of the batches behind the figures (named in every result).

    Asked per version (there are few) whether any batch in scope used it: each question stops
    at its first batch, where a DISTINCT over the period's batches would read them all.
    """
    # A correlated LIMIT 1 (not EXISTS, which the planner turns into a join over every batch), on the
    # (model_version_id, created_at) index.
    first = (select(Batch.id).where(Batch.model_version_id == ModelVersion.id, Batch.hospital_id.in_(hospitals),
                                    *batches_of_days(Batch.created_at, start, end)).limit(1).scalar_subquery())
    return sorted(session.scalars(select(ModelVersion.id).where(first.is_not(None))))


def hospitals_in_scope(session: Session, hospital_ids: HospitalIds) -> list[Hospital]:
    return list(session.scalars(select(Hospital).where(in_scope(Hospital.id, hospital_ids))
                                .order_by(Hospital.region, Hospital.district, Hospital.code)))
