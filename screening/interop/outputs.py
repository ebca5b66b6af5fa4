"""The DICOM objects one batch sends back: read the rows and stored files, call the builders.

For every screened image that came in over DICOM (it has a ``dicom_sources`` row):
an SR (with the metacarpal measurement when the hand was measured), a Grad-CAM
Secondary Capture and, when measured, a capture of the measurement overlay; for every
patient with a rendered report:
one Encapsulated PDF in the study of that patient's first such image. Objects of one
kind share a new series per source study. Images without a prediction (rejected,
duplicate, not eligible, failed) send nothing: there is no result to put back.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from PIL import Image as PILImage
from pydicom.dataset import Dataset
from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.db.models import Batch, DicomSource, Image, ModelVersion, Prediction, Report, RiskClass
from screening.interop import uids
from screening.interop.results import (
    MEASUREMENT,
    NewInstance,
    Radiogrammetry,
    ScreeningFinding,
    encapsulated_report,
    measurement_report,
    overlay_capture,
)
from screening.interop.source import open_source
from screening.sealing import Sealer
from screening.storage import ObjectStore
from screening.vocabulary import DEFAULT_OVERLAY_COLORMAP

REPORT_TITLE = "Bone health screening report (OSTEO AI, screening aid)"


@dataclass(frozen=True)
class _Screened:
    image: Image
    prediction: Prediction
    source: Dataset


def batch_outputs(session: Session, store: ObjectStore, sealer: Sealer, batch_id: str) -> list[Dataset]:
    """Every object the batch sends back, in a stable order (SRs, captures, reports)."""
    batch = session.get_one(Batch, batch_id)
    model = session.get(ModelVersion, batch.model_version_id) if batch.model_version_id else None
    version = batch.model_version_id or ""
    name = model.name if model is not None else version
    rows = session.execute(
        select(Image, Prediction, DicomSource.sealed)
        .join(Prediction, (Prediction.image_id == Image.id) & (Prediction.model_version_id == version))
        .join(DicomSource, (DicomSource.batch_id == Image.batch_id) & (DicomSource.filename == Image.filename))
        .where(Image.batch_id == batch_id).order_by(Image.id))
    screened = [_Screened(image, prediction, open_source(sealer, sealed)) for image, prediction, sealed in rows]
    reports, captures, documents = [], [], []
    numbers: dict[tuple[str, str], int] = {}
    for item in screened:
        finding = _finding(item, name, version)
        reports.append(measurement_report(item.source, finding, _where(batch_id, item, "sr", version, numbers)))
        gradcam = _picture(store, (item.prediction.overlay_keys or {}).get(DEFAULT_OVERLAY_COLORMAP))
        captures.append(overlay_capture(item.source, gradcam, finding, _where(batch_id, item, "sc", version, numbers)))
        if item.image.measurement_overlay_key:
            where = _where(batch_id, item, "sc", version, numbers, subject=f"image-{item.image.id}-measurement")
            captures.append(overlay_capture(item.source, _picture(store, item.image.measurement_overlay_key),
                                            finding, where, MEASUREMENT))
    for patient_id, first in _first_per_patient(screened).items():
        report = session.scalar(select(Report).where(Report.batch_id == batch_id, Report.patient_id == patient_id))
        if report is None or not report.pdf_key:
            continue  # reports disabled, or the report failed (the batch's problems say so)
        where = _where(batch_id, first, "pdf", version, numbers, subject=f"patient-{patient_id}")
        documents.append(encapsulated_report(first.source, store.get_bytes(report.pdf_key), REPORT_TITLE,
                                             _finding(first, name, version), where,
                                             report.created_at or datetime.now(UTC)))
    return [*reports, *captures, *documents]


def _finding(item: _Screened, model_name: str, version: str) -> ScreeningFinding:
    p = item.prediction
    return ScreeningFinding(
        predicted_class=RiskClass(p.predicted_class),
        probabilities={RiskClass.NORMAL: p.p_normal, RiskClass.OSTEOPENIA: p.p_osteopenia,
                       RiskClass.OSTEOPOROSIS: p.p_osteoporosis},
        referred=bool(p.referred), model_name=model_name, model_version=version,
        device_uid=uids.derived_uid("device", version), tracking_uid=uids.derived_uid("tracking", p.image_id, version),
        radiogrammetry=_radiogrammetry(item.image))


def _radiogrammetry(image: Image) -> Radiogrammetry | None:
    """The image's metacarpal measurement, when the hand was measured (screening.measurement)."""
    if not image.measured or image.cortical_index is None:
        return None
    return Radiogrammetry(cortical_index=image.cortical_index, cortical_thickness_mm=image.cortical_thickness_mm,
                          version=image.radiogrammetry_version or "unknown",
                          tracking_uid=uids.derived_uid("radiogrammetry", image.id, image.radiogrammetry_version))


def _where(batch_id: str, item: _Screened, kind: str, version: str, numbers: dict[tuple[str, str], int],
           subject: str | None = None) -> NewInstance:
    study = str(item.source.StudyInstanceUID)
    numbers[(study, kind)] = numbers.get((study, kind), 0) + 1
    return NewInstance(series_uid=uids.series_uid(batch_id, study, kind),
                       sop_uid=uids.instance_uid(batch_id, subject or f"image-{item.image.id}", version, kind),
                       series_number=uids.SERIES_NUMBERS[kind], instance_number=numbers[(study, kind)])


def _picture(store: ObjectStore, key: str | None) -> np.ndarray:
    if not key:
        raise ValueError("the image has no Grad-CAM overlay stored")
    with PILImage.open(io.BytesIO(store.get_bytes(key))) as picture:
        return np.asarray(picture.convert("RGB"), dtype=np.uint8)


def _first_per_patient(screened: list[_Screened]) -> dict[int, _Screened]:
    first: dict[int, _Screened] = {}
    for item in screened:
        if item.image.patient_id is not None:
            first.setdefault(item.image.patient_id, item)
    return first
