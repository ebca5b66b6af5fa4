"""A small screened batch in SQLite plus a local object store, shared by the report tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import cv2
import numpy as np
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from screening.db import Base, Batch, Hospital, Image, ModelVersion, Patient, Prediction, Quality, RiskClass
from screening.storage import LocalObjectStore

MODEL_VERSION = "demo-2025.03-9c1e5b7f"


def png(seed: int, colour: bool = False) -> bytes:
    """A tiny gray (or colour) picture; reports only need something decodable."""
    rng = np.random.default_rng(seed)
    shape = (80, 64, 3) if colour else (80, 64)
    return cv2.imencode(".png", rng.integers(0, 255, shape, dtype=np.uint8))[1].tobytes()


@dataclass
class Seeded:
    session: Session
    store: LocalObjectStore
    batch_id: str
    earlier_batch_id: str
    alice: int  # 67-year-old woman, osteoporosis on one of two images, referred, one earlier screening
    bob: int  # 8-year-old boy, normal, overlay object lost from the store
    carol: int  # one image failed to decode, nothing screened


def _prediction(session: Session, image: Image, cls: RiskClass, probs: tuple[float, float, float],
                referred: bool, store: LocalObjectStore, overlay: bool = True) -> Prediction:
    clahe_key = f"images/{image.batch_id}/{image.id}/clahe.png"
    store.put_bytes(clahe_key, png(image.id), "image/png")
    overlay_keys = {name: f"images/{image.batch_id}/{image.id}/overlay-{name}.png" for name in ("jet", "hot")}
    if overlay:
        for key in overlay_keys.values():
            store.put_bytes(key, png(image.id + 100, colour=True), "image/png")
    prediction = Prediction(
        image_id=image.id, batch_id=image.batch_id, hospital_id=image.hospital_id, patient_id=image.patient_id,
        model_version_id=MODEL_VERSION, predicted_class=cls, p_normal=probs[0], p_osteopenia=probs[1],
        p_osteoporosis=probs[2], referred=referred, clahe_key=clahe_key, overlay_keys=overlay_keys,
    )
    session.add(prediction)
    return prediction


@pytest.fixture
def seeded(tmp_path) -> Seeded:
    engine = create_engine(f"sqlite:///{tmp_path / 'osteo.db'}")
    Base.metadata.create_all(engine)
    session = Session(engine)
    store = LocalObjectStore(tmp_path / "objects")
    session.add(ModelVersion(id=MODEL_VERSION, name="osteo-fusion-demo", active=True, card={
        "synthetic_demo": True, "thresholds": {"refer_osteoporosis_probability": 0.4}}))
    hospital = Hospital(code="DH-NORTH", name="North District Hospital", district="North", region="Coast")
    session.add(hospital)
    session.flush()
    earlier = Batch(hospital_id=hospital.id, archive_key="uploads/a.zip", model_version_id=MODEL_VERSION,
                    created_at=datetime(2024, 3, 1, tzinfo=UTC))
    batch = Batch(hospital_id=hospital.id, archive_key="uploads/b.zip", model_version_id=MODEL_VERSION,
                  created_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC), files_total=6)
    alice = Patient(hospital_id=hospital.id, pseudonym="alice7f3a9c", sex="F")
    bob = Patient(hospital_id=hospital.id, pseudonym="bob5b7f9c1e", sex="M")
    carol = Patient(hospital_id=hospital.id, pseudonym="carol0d2e4f", sex="F")
    session.add_all([earlier, batch, alice, bob, carol])
    session.flush()

    def image(batch_: Batch, patient: Patient, name: str, age: int, quality: Quality = Quality.ACCEPTED,
              reason: str = "", error: str | None = None, study: date | None = date(2025, 3, 14)) -> Image:
        row = Image(batch_id=batch_.id, hospital_id=hospital.id, patient_id=patient.id, filename=name,
                    age_months=age, sex=patient.sex, study_date=study, quality=quality,
                    quality_reason=reason, error=error)
        session.add(row)
        session.flush()
        return row

    old = image(earlier, alice, "alice-2024.png", 66 * 12, study=date(2024, 3, 1))
    _prediction(session, old, RiskClass.OSTEOPENIA, (0.3, 0.5, 0.2), False, store)
    left = image(batch, alice, "alice-left.png", 67 * 12, Quality.WARNING, "slightly underexposed")
    right = image(batch, alice, "alice-right.png", 67 * 12)
    _prediction(session, left, RiskClass.OSTEOPENIA, (0.2, 0.5, 0.3), False, store)
    _prediction(session, right, RiskClass.OSTEOPOROSIS, (0.1, 0.2, 0.7), True, store)
    young = image(batch, bob, "bob.png", 8 * 12 + 3)
    _prediction(session, young, RiskClass.NORMAL, (0.8, 0.15, 0.05), False, store, overlay=False)
    image(batch, carol, "carol.png", 55 * 12, Quality.REJECTED, "", error="cannot decode: truncated PNG")
    image(batch, bob, "bob-copy.png", 8 * 12 + 3, Quality.DUPLICATE, "same pixels as bob.png")
    # A second referral, lower risk than Alice, to check the referral order.
    dave = Patient(hospital_id=hospital.id, pseudonym="dave9e8d7c", sex="M")
    session.add(dave)
    session.flush()
    _prediction(session, image(batch, dave, "dave.png", 72 * 12), RiskClass.OSTEOPOROSIS, (0.2, 0.3, 0.5), True, store)
    session.commit()
    try:
        yield Seeded(session, store, batch.id, earlier.id, alice.id, bob.id, carol.id)
    finally:
        session.close()
        engine.dispose()


@pytest.fixture(scope="session")
def renderer():
    pytest.importorskip("weasyprint")
    from screening.reports import ReportRenderer

    return ReportRenderer()
