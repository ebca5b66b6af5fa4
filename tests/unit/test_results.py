"""One rule for a patient's overall result: the report, the batch summary and the patient roll-up agree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from screening.db import Base, Batch, Hospital, Image, ModelVersion, Patient, Prediction, Quality, RiskClass
from screening.reports.context import build_batch_summary_context, build_patient_context
from screening.results import overall_result
from screening.rollups import refresh_patients
from screening.storage import LocalObjectStore

VERSION = "mv-results-1"


@dataclass
class Result:
    predicted_class: RiskClass | None
    p_osteoporosis: float


def test_worst_class_wins_over_a_higher_osteoporosis_probability() -> None:
    osteoporosis = Result(RiskClass.OSTEOPOROSIS, 0.40)
    osteopenia = Result(RiskClass.OSTEOPENIA, 0.45)
    assert overall_result([osteopenia, osteoporosis]) is osteoporosis


def test_ties_in_class_go_to_the_higher_osteoporosis_probability() -> None:
    low, high = Result(RiskClass.OSTEOPENIA, 0.20), Result(RiskClass.OSTEOPENIA, 0.35)
    assert overall_result([high, low]) is high and overall_result([low, high]) is high


def test_nothing_screened_has_no_overall_result() -> None:
    assert overall_result([]) is None
    assert overall_result([Result(None, 0.0)]) is None


@pytest.fixture
def two_images(tmp_path):  # type: ignore[no-untyped-def]
    """One patient, two images: osteoporosis with P 0.40, and osteopenia with the higher P 0.45."""
    engine = create_engine(f"sqlite:///{tmp_path / 'osteo.db'}")
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.add(ModelVersion(id=VERSION, name="fusion", active=True, card={}))
    hospital = Hospital(code="DH", name="District Hospital", district="D", region="R")
    session.add(hospital)
    session.flush()
    batch = Batch(hospital_id=hospital.id, archive_key="uploads/x.zip", model_version_id=VERSION,
                  created_at=datetime(2026, 11, 2, 9, tzinfo=UTC))
    patient = Patient(hospital_id=hospital.id, pseudonym="P123", sex="F")
    session.add_all([batch, patient])
    session.flush()
    for name, cls, probs in (("left.png", RiskClass.OSTEOPOROSIS, (0.30, 0.30, 0.40)),
                             ("right.png", RiskClass.OSTEOPENIA, (0.05, 0.50, 0.45))):
        image = Image(batch_id=batch.id, hospital_id=hospital.id, patient_id=patient.id, filename=name,
                      age_months=70 * 12, sex="F", quality=Quality.ACCEPTED, quality_reason="")
        session.add(image)
        session.flush()
        session.add(Prediction(image_id=image.id, batch_id=batch.id, hospital_id=hospital.id,
                               patient_id=patient.id, model_version_id=VERSION, predicted_class=cls,
                               p_normal=probs[0], p_osteopenia=probs[1], p_osteoporosis=probs[2],
                               referred=True, overlay_keys={}))
    session.commit()
    yield session, LocalObjectStore(tmp_path / "objects"), batch.id, patient.id
    session.close()
    engine.dispose()


def test_report_summary_and_patient_rollup_agree(two_images) -> None:  # type: ignore[no-untyped-def]
    session, store, batch_id, patient_id = two_images
    report = build_patient_context(session, store, patient_id, batch_id)
    summary = build_batch_summary_context(session, batch_id)
    refresh_patients(session, batch_id)
    patient = session.get(Patient, patient_id)

    assert report.overall_class is RiskClass.OSTEOPOROSIS
    assert summary.class_counts[RiskClass.OSTEOPOROSIS] == 1 and summary.class_counts[RiskClass.OSTEOPENIA] == 0
    assert [(r.predicted_class, r.p_osteoporosis) for r in summary.referrals] == [(RiskClass.OSTEOPOROSIS, 0.40)]
    assert (patient.latest_class, patient.latest_risk) == (RiskClass.OSTEOPOROSIS, 0.40)
    assert report.overall is not None and report.overall.p_osteoporosis == patient.latest_risk
