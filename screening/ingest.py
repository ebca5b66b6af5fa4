"""Turning the files of one archive into image rows and normalised stored images.

Each file is judged alone: a bad file becomes a rejected row with its reason and
the batch goes on. Identifiers are pseudonymised before anything is stored, and
only normalised pixels are kept (a PNG carries no DICOM header), so no
identifying tag ever reaches the object store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.archives import MANIFEST_NAME, ArchiveLimits, Manifest, ManifestRow, Member, Rejected, iter_archive, parse_manifest
from screening.db.models import Batch, Hospital, Image, Patient, Quality
from screening.imaging import DecodedImage, inspect_file
from screening.imaging.png import encode_png, stripped_gray_png
from screening.pseudonyms import pseudonymise
from screening.storage import ObjectStore

# Stored images are downscaled to this longest side: ample for 224-448 px model
# inputs and report figures, and ten times cheaper to store and decode than originals.
STORED_MAX_SIDE = 1024


@dataclass
class IngestState:
    """What one ingest run has seen so far (for duplicate detection and counters)."""

    batch: Batch
    hospital: Hospital
    manifest: Manifest
    seen: dict[str, int] = field(default_factory=dict)  # sha256 -> image id in this batch
    patients: dict[str, Patient] = field(default_factory=dict)


def find_manifest(path: Path, limits: ArchiveLimits) -> Manifest:
    """The archive's manifest, or an empty one (images then need DICOM tags)."""
    for item in iter_archive(path, limits):
        if isinstance(item, Member) and item.name.lower().rsplit("/", 1)[-1] == MANIFEST_NAME:
            return parse_manifest(item.data)
    return Manifest({}, [])


def ingest_item(session: Session, store: ObjectStore, secret: str, state: IngestState,
                item: Member | Rejected) -> Image | None:
    """Record one archive member as an image row (None for the manifest itself)."""
    if isinstance(item, Rejected):
        return _add(session, state, item.name, Quality.REJECTED, item.reason)
    if item.name.lower().rsplit("/", 1)[-1] == MANIFEST_NAME:
        return None
    sha = hashlib.sha256(item.data).hexdigest()
    original = state.seen.get(sha) or _earlier_copy(session, state.hospital.id, state.batch.id, sha)
    if original is not None:
        return _add(session, state, item.name, Quality.DUPLICATE,
                    "exact duplicate of an image already received", sha256=sha, duplicate_of_id=original)
    decoded, verdict = inspect_file(item.data, item.name)
    if decoded is None or verdict.status == "rejected":
        return _add(session, state, item.name, Quality.REJECTED, verdict.reason, sha256=sha)
    patient_row, problem = _patient_data(state, item.name, decoded)
    if problem:
        return _add(session, state, item.name, Quality.REJECTED, problem, sha256=sha)
    assert patient_row is not None
    patient = _patient(session, state, pseudonymise(secret, state.hospital.code, patient_row.patient_id), patient_row.sex)
    key = f"images/{state.hospital.code}/{state.batch.id}/{sha[:24]}.png"
    store.put_bytes(key, stripped_gray_png(item.data, STORED_MAX_SIDE) or encode_normalised_png(decoded.pixels),
                    "image/png")
    image = _add(session, state, item.name, Quality(verdict.status), verdict.reason, sha256=sha,
                 patient_id=patient.id, age_months=patient_row.age_months, sex=patient_row.sex,
                 study_date=patient_row.study_date, storage_key=key, source_format=decoded.source_format,
                 width=decoded.width, height=decoded.height)
    state.seen[sha] = image.id
    return image


def _add(session: Session, state: IngestState, name: str, quality: Quality, reason: str, **values: object) -> Image:
    image = Image(batch_id=state.batch.id, hospital_id=state.hospital.id, filename=name[:512],
                  quality=quality, quality_reason=reason, **values)
    session.add(image)
    session.flush()
    return image


def _earlier_copy(session: Session, hospital_id: int, batch_id: str, sha: str) -> int | None:
    """An earlier accepted image with the same bytes at the same hospital."""
    return session.scalar(
        select(Image.id).where(Image.hospital_id == hospital_id, Image.sha256 == sha,
                               Image.batch_id != batch_id,
                               Image.quality.in_([Quality.ACCEPTED, Quality.WARNING])).limit(1)
    )


def _patient_data(state: IngestState, name: str, decoded: DecodedImage) -> tuple[ManifestRow | None, str]:
    """Patient id, age and sex from the manifest row, else from the DICOM tags."""
    row = state.manifest.rows.get(name) or state.manifest.rows.get(name.rsplit("/", 1)[-1])
    meta = decoded.metadata
    if row is None and meta.patient_id:
        row = ManifestRow(name, meta.patient_id, meta.age_months, meta.sex, meta.study_date)
    if row is None:
        return None, "no patient data: the file is not in manifest.csv and has no DICOM patient tags"
    if row.age_months is None:
        age = meta.age_months
        if age is None:
            return None, "patient age unknown: give age_years or age_months in manifest.csv"
        row = ManifestRow(row.file, row.patient_id, age, row.sex or meta.sex, row.study_date or meta.study_date)
    return row, ""


def _patient(session: Session, state: IngestState, pseudonym: str, sex: str | None) -> Patient:
    patient = state.patients.get(pseudonym) or session.scalar(
        select(Patient).where(Patient.hospital_id == state.hospital.id, Patient.pseudonym == pseudonym))
    if patient is None:
        patient = Patient(hospital_id=state.hospital.id, pseudonym=pseudonym, sex=sex)
        session.add(patient)
        session.flush()
    state.patients[pseudonym] = patient
    return patient


def encode_normalised_png(pixels: np.ndarray) -> bytes:
    """16-bit grayscale PNG of [0, 1] pixels, longest side at most STORED_MAX_SIDE."""
    height, width = pixels.shape
    scale = STORED_MAX_SIDE / max(height, width)
    if scale < 1:
        pixels = cv2.resize(pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return encode_png(np.clip(pixels * 65535.0 + 0.5, 0, 65535).astype(np.uint16))


def decode_normalised_png(data: bytes) -> np.ndarray:
    """Float32 pixels in [0, 1] of a stored image (16-bit from encode_normalised_png, or a stripped 8/16-bit original)."""
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.ndim != 2:
        raise ValueError("stored image is not a grayscale PNG")
    return array.astype(np.float32) / (65535.0 if array.dtype == np.uint16 else 255.0)
