"""What a report shows, as plain frozen data, and how it is read from the database.

Rendering works from these dataclasses only, so templates never touch the database
or the object store (a report can be rendered in a test, a benchmark or a worker
with the same code), and everything a report says is decided here, in one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.db import Batch, Hospital, Image, ModelVersion, Patient, Prediction, Quality, RiskClass
from screening.faults import is_infrastructure_error
from screening.results import overall_result, severity
from screening.vocabulary import DEFAULT_OVERLAY_COLORMAP, SCREENABLE

logger = logging.getLogger(__name__)

SEX_LABELS = {"F": "Female", "M": "Male"}
ADULT_MONTHS = 18 * 12
OVERLAY_NOT_AVAILABLE = "overlay not available"
IMAGE_NOT_AVAILABLE = "image not available"
NOT_ELIGIBLE = "not eligible"
MEASUREMENT_NOT_AVAILABLE = "measurement picture not available"


class ReadableStore(Protocol):
    """The part of :class:`screening.storage.ObjectStore` a report builder needs."""

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...


class ReportDataError(LookupError):
    """The rows a report needs are missing (unknown patient or batch, or nothing screened)."""


def format_age(age_months: int | None) -> str:
    """Adults in whole years ("67 years"); children to the month ("8 years 3 months")."""
    if age_months is None:
        return "not recorded"
    if age_months < 0:
        raise ValueError(f"age in months must not be negative, got {age_months}")
    years, months = divmod(age_months, 12)
    year_text = f"{years} year" + ("" if years == 1 else "s")
    month_text = f"{months} month" + ("" if months == 1 else "s")
    if age_months >= ADULT_MONTHS or months == 0:
        return year_text
    if years == 0:
        return month_text
    return f"{year_text} {month_text}"


def format_sex(sex: str | None) -> str:
    return SEX_LABELS.get((sex or "").upper(), "not recorded")


@dataclass(frozen=True)
class ModelInfo:
    """The model that produced the results; every report names it."""

    name: str
    version: str
    synthetic_demo: bool


@dataclass(frozen=True)
class MeasuredBone:
    """One metacarpal as ingest measured it; values in ``unit`` ("mm" or "px"), None when refused."""

    bone: str
    measured: bool
    reason: str
    quality: float
    outer_width: float | None
    inner_width: float | None
    cortical_thickness: float | None
    cortical_index: float | None
    length: float | None
    unit: str


@dataclass(frozen=True)
class BoneMeasurementResult:
    """The metacarpal radiogrammetry of one image (:mod:`screening.measurement`), read from its row.

    ``cortical_index`` is the combined Barnett-Nordin index of the measured bones (a fraction);
    ``cortical_thickness_mm`` and ``index_value`` (BHI) exist only with a known pixel spacing.
    """

    version: str
    measured: bool
    reason: str
    cortical_index: float | None
    cortical_thickness_mm: float | None
    index_name: str
    index_value: float | None
    pixel_spacing_mm: float | None
    bones: tuple[MeasuredBone, ...]

    @property
    def unit(self) -> str:
        return "mm" if self.pixel_spacing_mm else "px"

    @property
    def measured_bones(self) -> tuple[MeasuredBone, ...]:
        return tuple(b for b in self.bones if b.measured)

    @property
    def refused_bones(self) -> tuple[MeasuredBone, ...]:
        return tuple(b for b in self.bones if not b.measured)


@dataclass(frozen=True)
class ImageResult:
    """One image of the patient in this batch: its pictures, result, quality and any error.

    ``overlay_note`` / ``clahe_note`` say why a picture is missing, so the report tells
    the reader instead of silently leaving a gap.
    """

    filename: str
    clahe_png: bytes | None = None
    overlay_png: bytes | None = None
    colormap: str = DEFAULT_OVERLAY_COLORMAP
    predicted_class: RiskClass | None = None
    probabilities: dict[RiskClass, float] = field(default_factory=dict)
    referred: bool = False
    quality: Quality = Quality.ACCEPTED
    quality_reason: str = ""
    error: str | None = None
    clahe_note: str = ""
    overlay_note: str = ""
    eligible: bool | None = None  # False: outside the screening population (no class, measurement still shown)
    measurement: BoneMeasurementResult | None = None  # None: not attempted
    measurement_png: bytes | None = None
    measurement_note: str = ""

    @property
    def screened(self) -> bool:
        return self.predicted_class is not None

    @property
    def p_osteoporosis(self) -> float:
        return self.probabilities.get(RiskClass.OSTEOPOROSIS, 0.0)


@dataclass(frozen=True)
class PriorScreening:
    """An earlier screening of the same patient, for the trend."""

    screened_on: date
    predicted_class: RiskClass
    p_osteoporosis: float


@dataclass(frozen=True)
class PatientReportContext:
    """Everything a patient report shows."""

    hospital_name: str
    hospital_code: str
    batch_id: str
    pseudonym: str
    age_months: int | None
    sex: str | None
    screening_date: date
    model: ModelInfo
    images: tuple[ImageResult, ...]
    priors: tuple[PriorScreening, ...] = ()
    refer_threshold: float | None = None
    # The hospital's own patient id: set only on reports rendered for that hospital's staff
    # (screening.reports.identified), never on stored ones.
    hospital_patient_id: str | None = None

    @property
    def age_text(self) -> str:
        return format_age(self.age_months)

    @property
    def sex_text(self) -> str:
        return format_sex(self.sex)

    @property
    def overall(self) -> ImageResult | None:
        """The screened image whose class is the patient's overall result (:func:`overall_result`)."""
        return overall_result(self.images)

    @property
    def overall_class(self) -> RiskClass | None:
        overall = self.overall
        return overall.predicted_class if overall else None

    @property
    def refer(self) -> bool:
        return any(image.referred for image in self.images)

    @property
    def measured_images(self) -> tuple[ImageResult, ...]:
        """The images whose metacarpals were measured or refused (the "Measured bone" section)."""
        return tuple(image for image in self.images if image.measurement is not None)


@dataclass(frozen=True)
class ReferralEntry:
    pseudonym: str
    age_months: int | None
    sex: str | None
    predicted_class: RiskClass
    p_osteoporosis: float
    hospital_patient_id: str | None = None  # only in summaries rendered for the hospital's staff

    @property
    def age_text(self) -> str:
        return format_age(self.age_months)

    @property
    def sex_text(self) -> str:
        return format_sex(self.sex)


@dataclass(frozen=True)
class QualityIssue:
    """A file that was not screened (rejected, duplicate, not eligible or failed) and why."""

    filename: str
    status: str
    reason: str


@dataclass(frozen=True)
class BatchSummaryContext:
    """Everything a batch summary shows: counts, rejected files and who to refer."""

    hospital_name: str
    hospital_code: str
    batch_id: str
    uploaded_at: datetime
    finished_at: datetime | None
    files_total: int
    patients_screened: int
    class_counts: dict[RiskClass, int]
    issues: tuple[QualityIssue, ...]
    referrals: tuple[ReferralEntry, ...]
    model: ModelInfo | None
    not_eligible: int = 0  # images of patients outside the screening population (listed in ``issues``)


# -- reading from the database ---------------------------------------------------


def _model_info(session: Session, version_id: str | None) -> ModelInfo | None:
    if version_id is None:
        return None
    row = session.get(ModelVersion, version_id)
    if row is None:
        return ModelInfo(name="unknown model", version=version_id, synthetic_demo=False)
    card = row.card or {}
    return ModelInfo(name=row.name, version=row.id, synthetic_demo=bool(card.get("synthetic_demo", False)))


def _refer_threshold(session: Session, version_id: str | None) -> float | None:
    row = session.get(ModelVersion, version_id) if version_id else None
    value = ((row.card or {}).get("thresholds") or {}).get("refer_osteoporosis_probability") if row else None
    return float(value) if isinstance(value, (int, float)) else None


def _batch_model_version(session: Session, batch: Batch) -> str | None:
    """The batch's model, or (if the batch names none) the newest model that screened it."""
    if batch.model_version_id:
        return batch.model_version_id
    return session.scalar(
        select(Prediction.model_version_id)
        .where(Prediction.batch_id == batch.id)
        .order_by(Prediction.created_at.desc(), Prediction.id.desc())
        .limit(1)
    )


def _probabilities(prediction: Prediction) -> dict[RiskClass, float]:
    return {
        RiskClass.NORMAL: prediction.p_normal,
        RiskClass.OSTEOPENIA: prediction.p_osteopenia,
        RiskClass.OSTEOPOROSIS: prediction.p_osteoporosis,
    }


def _fetch(store: ReadableStore, key: str | None, missing: str) -> tuple[bytes | None, str]:
    """The object's bytes, or None and a note; a lost object must not stop the report."""
    if not key:
        return None, missing
    try:
        if not store.exists(key):
            return None, missing
        return store.get_bytes(key), ""
    except Exception as exc:  # a lost or unreadable object degrades to a note, never a failed report
        if is_infrastructure_error(exc):
            raise  # an outage is retried by the task, not printed into a report
        return None, missing


def _measured_bone(bone: dict[str, Any]) -> MeasuredBone:
    return MeasuredBone(
        bone=str(bone.get("bone", "")), measured=bool(bone.get("measured")), reason=str(bone.get("reason") or ""),
        quality=float(bone.get("quality") or 0.0), outer_width=bone.get("outer_width"),
        inner_width=bone.get("inner_width"), cortical_thickness=bone.get("cortical_thickness"),
        cortical_index=bone.get("cortical_index"), length=bone.get("length"), unit=str(bone.get("unit") or "px"),
    )


def measurement_result(image: Image) -> BoneMeasurementResult | None:
    """The image's stored measurement; None when it was never attempted (rejected, or ingested before it)."""
    if image.measured is None:
        return None
    stored = image.measurement or {}
    return BoneMeasurementResult(
        version=image.radiogrammetry_version or "",
        measured=bool(image.measured),
        reason=str(stored.get("reason") or ""),
        cortical_index=image.cortical_index,
        cortical_thickness_mm=image.cortical_thickness_mm,
        index_name=str(stored.get("index_name") or ""),
        index_value=stored.get("index_value"),
        pixel_spacing_mm=stored.get("pixel_spacing_mm"),
        bones=tuple(_measured_bone(bone) for bone in stored.get("bones") or ()),
    )


def _measurement_fields(image: Image, store: ReadableStore) -> dict[str, Any]:
    measurement = measurement_result(image)
    picture, note = (None, "")
    if measurement is not None and measurement.measured:
        picture, note = _fetch(store, image.measurement_overlay_key, MEASUREMENT_NOT_AVAILABLE)
    return {"eligible": image.eligible, "measurement": measurement, "measurement_png": picture,
            "measurement_note": note}


def _image_result(image: Image, prediction: Prediction | None, store: ReadableStore, colormap: str) -> ImageResult:
    if prediction is None:
        error = image.error
        if error is None and image.eligible is False:
            error = image.eligibility_reason or "not eligible: outside the screening population"
        elif error is None and image.quality in SCREENABLE:
            error = "not screened"
        return ImageResult(
            filename=image.filename,
            quality=image.quality,
            quality_reason=image.quality_reason or "",
            error=error,
            **_measurement_fields(image, store),
        )
    clahe, clahe_note = _fetch(store, prediction.clahe_key, IMAGE_NOT_AVAILABLE)
    overlay_key = (prediction.overlay_keys or {}).get(colormap)
    overlay, overlay_note = _fetch(store, overlay_key, OVERLAY_NOT_AVAILABLE)
    return ImageResult(
        filename=image.filename,
        clahe_png=clahe,
        overlay_png=overlay,
        colormap=colormap,
        predicted_class=prediction.predicted_class,
        probabilities=_probabilities(prediction),
        referred=prediction.referred,
        quality=image.quality,
        quality_reason=image.quality_reason or "",
        error=image.error,
        clahe_note=clahe_note,
        overlay_note=overlay_note,
        **_measurement_fields(image, store),
    )


def _screening_day(images: list[Image], batch: Batch) -> date:
    """The study date of the images, or the upload date when the images carry none."""
    days = [image.study_date for image in images if image.study_date is not None]
    return max(days) if days else batch.created_at.date()


def _priors(session: Session, patient_id: int, batch: Batch) -> tuple[PriorScreening, ...]:
    """The patient's earlier batches: one point per batch (its overall result)."""
    rows = session.execute(
        select(Prediction, Image, Batch)
        .join(Image, Prediction.image_id == Image.id)
        .join(Batch, Prediction.batch_id == Batch.id)
        .where(Prediction.patient_id == patient_id, Prediction.batch_id != batch.id,
               Batch.created_at < batch.created_at)
    ).all()
    per_batch: dict[str, list[PriorScreening]] = {}
    for prediction, image, prior_batch in rows:
        per_batch.setdefault(prior_batch.id, []).append(PriorScreening(
            screened_on=image.study_date or prior_batch.created_at.date(),
            predicted_class=prediction.predicted_class,
            p_osteoporosis=prediction.p_osteoporosis,
        ))
    points = [overall_result(points) for points in per_batch.values()]
    return tuple(sorted((point for point in points if point is not None), key=lambda p: p.screened_on))


def build_patient_context(
    session: Session, store: ReadableStore, patient_id: int, batch_id: str, colormap: str = DEFAULT_OVERLAY_COLORMAP
) -> PatientReportContext:
    """Read one patient's results in one batch (pictures from ``store``) into a report context."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise ReportDataError(f"no patient {patient_id}")
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise ReportDataError(f"no batch {batch_id!r}")
    images = list(session.scalars(
        select(Image).where(Image.batch_id == batch_id, Image.patient_id == patient_id).order_by(Image.id)
    ))
    if not images:
        raise ReportDataError(f"patient {patient_id} has no images in batch {batch_id!r}")
    version_id = _batch_model_version(session, batch)
    model = _model_info(session, version_id)
    if model is None:
        raise ReportDataError(f"batch {batch_id!r} has no predictions from any model")
    predictions = {
        p.image_id: p for p in session.scalars(
            select(Prediction).where(Prediction.batch_id == batch_id, Prediction.patient_id == patient_id,
                                     Prediction.model_version_id == version_id)
        )
    }
    ages = [image.age_months for image in images if image.age_months is not None]
    hospital = session.get_one(Hospital, batch.hospital_id)
    return PatientReportContext(
        hospital_name=hospital.name,
        hospital_code=hospital.code,
        batch_id=batch_id,
        pseudonym=patient.pseudonym,
        age_months=max(ages) if ages else None,
        sex=patient.sex or next((image.sex for image in images if image.sex), None),
        screening_date=_screening_day(images, batch),
        model=model,
        images=tuple(_image_result(image, predictions.get(image.id), store, colormap) for image in images),
        priors=_priors(session, patient_id, batch),
        refer_threshold=_refer_threshold(session, version_id),
    )


def _issue(image: Image) -> QualityIssue | None:
    if image.error:
        return QualityIssue(image.filename, "failed", image.error)
    if image.quality in SCREENABLE and image.eligible is False:
        return QualityIssue(image.filename, NOT_ELIGIBLE, image.eligibility_reason or "")
    if image.quality in (Quality.REJECTED, Quality.DUPLICATE):
        return QualityIssue(image.filename, image.quality.value, image.quality_reason or "")
    return None


def build_batch_summary_context(session: Session, batch_id: str,
                                finished_at: datetime | None = None) -> BatchSummaryContext:
    """Counts per class (per patient), unscreened files with reasons, and the referral list.

    The summary is rendered while the batch is being finalized, before its row says
    it has finished: the caller passes the finish time it is about to store
    (``finished_at``), so the document does not read "not finished" for ever.
    """
    batch = session.get(Batch, batch_id)
    if batch is None:
        raise ReportDataError(f"no batch {batch_id!r}")
    version_id = _batch_model_version(session, batch)
    images = list(session.scalars(select(Image).where(Image.batch_id == batch_id).order_by(Image.id)))
    rows = session.execute(
        select(Prediction, Image, Patient)
        .join(Image, Prediction.image_id == Image.id)
        .outerjoin(Patient, Prediction.patient_id == Patient.id)
        .where(Prediction.batch_id == batch_id, Prediction.model_version_id == version_id)
    ).all()
    by_owner: dict[int | str, list[Prediction]] = {}
    rows_of: dict[int, tuple[Image, Patient | None]] = {}
    referred: set[int | str] = set()
    for prediction, image, patient in rows:
        owner: int | str = prediction.patient_id if prediction.patient_id is not None else f"image-{image.id}"
        if prediction.referred:
            referred.add(owner)
        by_owner.setdefault(owner, []).append(prediction)
        rows_of[prediction.id] = (image, patient)
    counts = {risk: 0 for risk in RiskClass}
    referrals = []
    for owner, predictions in by_owner.items():
        overall = overall_result(predictions)
        assert overall is not None  # every prediction row has a class
        shown, person = rows_of[overall.id]
        counts[overall.predicted_class] += 1
        if owner in referred:
            referrals.append(ReferralEntry(
                pseudonym=person.pseudonym if person else shown.filename,
                age_months=shown.age_months,
                sex=(person.sex if person else None) or shown.sex,
                predicted_class=overall.predicted_class,
                p_osteoporosis=overall.p_osteoporosis,
            ))
    referrals.sort(key=lambda r: r.pseudonym)
    referrals.sort(key=severity, reverse=True)  # stable: worst first, ties by pseudonym
    hospital = session.get_one(Hospital, batch.hospital_id)
    logger.info("batch=%s summary patients=%d referrals=%d", batch.id, len(by_owner), len(referrals))
    return BatchSummaryContext(
        hospital_name=hospital.name,
        hospital_code=hospital.code,
        batch_id=batch.id,
        uploaded_at=batch.created_at,
        finished_at=finished_at or batch.finished_at,
        files_total=batch.files_total or len(images),
        not_eligible=sum(1 for image in images if image.quality in SCREENABLE and image.eligible is False),
        patients_screened=len(by_owner),
        class_counts=counts,
        issues=tuple(issue for issue in map(_issue, images) if issue is not None),
        referrals=tuple(referrals),
        model=_model_info(session, version_id),
    )
