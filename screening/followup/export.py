"""DXA-labelled images for training: the program's own data, as a manifest ``osteo train`` reads.

Every referral with a DXA result gives its patient's screened images of the batch that
referred them, labelled with the WHO category of the lowest T-score. The images are the
stored hand regions, the exact pixels the model is shown at screening, so the manifest
marks them ``hand_crop=yes`` and training uses them whole instead of locating the hand
again. Patients are named by pseudonym: the hospitals' own ids never leave the database.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.csvsafe import safe_writer
from screening.db.models import Hospital, Image, Patient, Prediction, Referral
from screening.followup.dxa import who_class
from screening.population import to_screen
from screening.queries import HospitalIds, in_scope
from screening.storage import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)
COLUMNS = ("file", "patient_id", "age_months", "sex", "label", "t_score", "dxa_date", "hospital", "referral_id",
           "hand_crop", "screened_by")


@dataclass
class ExportSummary:
    images: int = 0
    patients: int = 0
    referrals: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> images left out


def export_training(session: Session, store: ObjectStore, hospital_ids: HospitalIds, out: Path,
                    hospital_codes: list[str] | None = None, dxa_from: date | None = None,
                    dxa_to: date | None = None) -> ExportSummary:
    """Write ``out/manifest.csv`` and ``out/images/...`` for every DXA-confirmed referral in scope."""
    query = (select(Referral, Hospital.code, Patient.pseudonym)
             .join(Hospital, Hospital.id == Referral.hospital_id)
             .join(Patient, Patient.id == Referral.patient_id)
             .where(in_scope(Referral.hospital_id, hospital_ids), Referral.t_lowest.is_not(None),
                    Referral.dxa_date.is_not(None))
             .order_by(Hospital.code, Referral.id))
    if hospital_codes:
        query = query.where(Hospital.code.in_([code.strip().upper() for code in hospital_codes]))
    if dxa_from:
        query = query.where(Referral.dxa_date >= dxa_from)
    if dxa_to:
        query = query.where(Referral.dxa_date <= dxa_to)
    summary = ExportSummary()
    (out / "images").mkdir(parents=True, exist_ok=True)
    people: set[int] = set()
    with (out / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = safe_writer(fh)
        writer.writerow(COLUMNS)
        for referral, code, pseudonym in session.execute(query):
            summary.referrals += 1
            assert referral.t_lowest is not None and referral.dxa_date is not None
            label = who_class(referral.t_lowest)
            for image in _screened_images(session, referral):
                reason = _unusable(image, referral)
                if reason:
                    summary.skipped[reason] += 1
                    continue
                assert image.storage_key is not None and image.age_months is not None
                try:
                    data = store.get_bytes(image.storage_key)
                except ObjectNotFound:
                    summary.skipped["stored image missing"] += 1
                    continue
                relative = f"images/{code}/{pseudonym}/{image.id}.png"
                target = out / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                writer.writerow([relative, pseudonym, image.age_months, image.sex or referral.sex, label,
                                 f"{referral.t_lowest:.2f}", referral.dxa_date.isoformat(), code, referral.id,
                                 "yes", referral.model_version_id or ""])
                summary.images += 1
                summary.classes[label] += 1
                people.add(referral.patient_id)
    summary.patients = len(people)
    logger.info("training export: %d images of %d people from %d referrals", summary.images, summary.patients,
                summary.referrals)
    return summary


def _screened_images(session: Session, referral: Referral) -> list[Image]:
    """The patient's images in the referring batch that the model screened (same model as the batch)."""
    return list(session.scalars(
        select(Image).join(Prediction, (Prediction.image_id == Image.id)
                           & (Prediction.model_version_id == referral.model_version_id))
        .where(Image.batch_id == referral.batch_id, Image.patient_id == referral.patient_id, to_screen())
        .order_by(Image.id)))


def _unusable(image: Image, referral: Referral) -> str:
    if image.storage_key is None:
        return "stored image missing"
    if image.age_months is None:
        return "age unknown"
    if (image.sex or referral.sex) not in ("F", "M"):
        return "sex unknown"
    return ""
