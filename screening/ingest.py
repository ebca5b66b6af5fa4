"""Turning the files of one archive into image rows and normalised stored images.

Each file is judged alone: a bad file becomes a rejected row with its reason and
the batch goes on. Every decoded file goes through the hand/wrist gate
(:mod:`screening.anatomy.prepare`), which refuses other body parts and locates the
hand; every patient is judged against the screening population
(:mod:`screening.population`), and a patient outside it is recorded "not eligible"
and never screened. Identifiers are pseudonymised before anything is stored (the
hospital's own id is kept only encrypted, :mod:`screening.identity`), and
only the normalised pixels of the hand region are kept (see
:mod:`screening.imaging.stored`), so no identifying tag ever reaches the object store. Names and reasons copied from the
upload are cleaned (:mod:`screening.safe_text`) and made unique within the batch,
so no crafted member name can fail the rows of its batch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.anatomy.gate import GateVerdict
from screening.anatomy.prepare import hand_region
from screening.archives import (
    MANIFEST_NAME,
    ArchiveLimits,
    Manifest,
    ManifestRow,
    Member,
    Rejected,
    iter_archive,
    parse_manifest,
)
from screening.db.models import Batch, Hospital, Image, Patient, Quality
from screening.identity import IdentityCipher
from screening.imaging import DecodedImage, QualityVerdict, inspect_file
from screening.imaging.stored import encode_normalised_png, stored_image_key
from screening.measurement import measure_image, measurement_overlay_key
from screening.population import ScreeningPopulation, to_screen
from screening.pseudonyms import pseudonymise
from screening.safe_text import clean
from screening.storage import ObjectStore

NAME_CHARS = 512  # Image.filename
REASON_CHARS = 1000


@dataclass
class IngestState:
    """What one ingest run has seen so far (for duplicate detection and unique names)."""

    batch: Batch
    hospital: Hospital
    manifest: Manifest
    population: ScreeningPopulation
    cipher: IdentityCipher  # encrypts the hospital's patient id before it is stored
    seen: dict[str, int] = field(default_factory=dict)  # sha256 -> image id in this batch
    patients: dict[str, Patient] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # row names given so far in this run


def find_manifest(path: Path, limits: ArchiveLimits) -> Manifest:
    """The archive's manifest, or an empty one (images then need DICOM tags)."""
    for item in iter_archive(path, limits):
        if isinstance(item, Member) and is_manifest(item.name):
            return parse_manifest(item.data, max_rows=limits.max_files)
    return Manifest({}, [])


def is_manifest(name: str) -> bool:
    return name.lower().rsplit("/", 1)[-1] == MANIFEST_NAME


def row_name(state: IngestState, name: str) -> str:
    """The member's name as stored: cleaned, at most NAME_CHARS, unique in this batch (``x.png (2)``).

    Archives may hold one name twice (``x.png`` and ``./x.png`` normalise alike), or
    names that collide once truncated; the unique constraint on (batch, filename)
    must never be what rejects them. Deterministic in archive order, so a redelivered
    ingest gives every member the name it had.
    """
    base = clean(name, NAME_CHARS)
    candidate, copy = base, 1
    while candidate in state.names:
        copy += 1
        suffix = f" ({copy})"
        candidate = clean(name, NAME_CHARS - len(suffix)) + suffix
    state.names.add(candidate)
    return candidate


def ingest_item(session: Session, store: ObjectStore, secret: str, state: IngestState,
                item: Member | Rejected, name: str) -> Image:
    """Record one archive member (stored as ``name``, from :func:`row_name`) as an image row."""
    if isinstance(item, Rejected):
        return add_image(session, state, name, Quality.REJECTED, item.reason)
    sha = hashlib.sha256(item.data).hexdigest()
    original = state.seen.get(sha) or _earlier_copy(session, state.hospital.id, state.batch.id, sha)
    if original is not None:
        return add_image(session, state, name, Quality.DUPLICATE,
                         "exact duplicate of an image already received", sha256=sha, duplicate_of_id=original)
    decoded, verdict = inspect_file(item.data, item.name)
    if decoded is None or verdict.status == "rejected":
        return add_image(session, state, name, Quality.REJECTED, verdict.reason, sha256=sha)
    crop, gate = hand_region(decoded.pixels)
    seen = dict(sha256=sha, source_format=decoded.source_format, width=decoded.width, height=decoded.height,
                **_gate_columns(gate))
    if gate.verdict == "rejected":
        return add_image(session, state, name, Quality.REJECTED, gate.reason, **seen)
    patient_row, problem = _patient_data(state, item.name, decoded)
    if problem:
        return add_image(session, state, name, Quality.REJECTED, problem, **seen)
    assert patient_row is not None
    eligibility = state.population.judge(patient_row.age_months, patient_row.sex)
    pseudonym = pseudonymise(secret, state.hospital.code, patient_row.patient_id)
    patient = _patient(session, state, pseudonym, patient_row.sex, patient_row.patient_id)
    # Measured on the gate's hand box at full resolution, before encode_normalised_png may shrink
    # anything: the box, not the model's square crop, whose extra film and edge fill are for the CNN.
    x0, y0, x1, y1 = gate.hand_box or (0, 0, decoded.width, decoded.height)
    spacing = decoded.metadata.pixel_spacing_mm or patient_row.pixel_spacing_mm  # the file's own tags first
    measurement = measure_image(np.ascontiguousarray(decoded.pixels[y0:y1, x0:x1]), (x0, y0), spacing)
    key = stored_image_key(state.hospital.code, state.batch.id, sha)
    store.put_bytes(key, encode_normalised_png(crop), "image/png")
    quality, reason = _quality(verdict, gate)
    image = add_image(session, state, name, quality, reason, patient_id=patient.id,
                      age_months=patient_row.age_months, sex=patient_row.sex, study_date=patient_row.study_date,
                      storage_key=key, eligible=eligibility.eligible, eligibility_reason=eligibility.reason,
                      **measurement.columns, **seen)
    if measurement.overlay_png is not None:
        image.measurement_overlay_key = measurement_overlay_key(state.batch.id, image.id)
        store.put_bytes(image.measurement_overlay_key, measurement.overlay_png, "image/png")
    state.seen[sha] = image.id
    return image


def _gate_columns(gate: GateVerdict) -> dict[str, object]:
    return dict(gate_version=gate.gate_version, body_part=gate.body_part, gate_score=round(gate.score, 4),
                hand_box=list(gate.hand_box) if gate.hand_box else None)


def _quality(verdict: QualityVerdict, gate: GateVerdict) -> tuple[Quality, str]:
    """The image's quality: a warning from the quality checks or from the gate (both reasons kept)."""
    reasons = [text for text in (verdict.reason, gate.reason if gate.verdict == "warning" else "") if text]
    warned = verdict.status == "warning" or gate.verdict == "warning"
    return (Quality.WARNING if warned else Quality.ACCEPTED), "; ".join(reasons)


def add_image(session: Session, state: IngestState, name: str, quality: Quality, reason: str,
              **values: object) -> Image:
    image = Image(batch_id=state.batch.id, hospital_id=state.hospital.id, filename=name,
                  quality=quality, quality_reason=clean(reason or "", REASON_CHARS), **values)
    session.add(image)
    session.flush()
    return image


def _earlier_copy(session: Session, hospital_id: int, batch_id: str, sha: str) -> int | None:
    """An earlier image with the same bytes at the same hospital that was accepted and did not fail.

    An image whose screening failed does not count: re-uploading it is how staff retry.
    Nor does a not-eligible one: it was never screened (the manifest's age may have been wrong).
    """
    return session.scalar(
        select(Image.id).where(Image.hospital_id == hospital_id, Image.sha256 == sha,
                               Image.batch_id != batch_id, Image.error.is_(None), to_screen()).limit(1)
    )


def _manifest_lookup(manifest: Manifest, name: str) -> tuple[ManifestRow | None, str | None]:
    base = name.rsplit("/", 1)[-1]
    for key in (name, base):
        if key in manifest.rows:
            return manifest.rows[key], None
        if key in manifest.invalid:
            return None, manifest.invalid[key]
    return None, None


def _patient_data(state: IngestState, name: str, decoded: DecodedImage) -> tuple[ManifestRow | None, str]:
    """Patient id, age and sex from the manifest row, else from the DICOM tags."""
    row, invalid = _manifest_lookup(state.manifest, name)
    if invalid:
        return None, invalid
    meta = decoded.metadata
    if row is None and meta.patient_id:
        row = ManifestRow(name, meta.patient_id, meta.age_months, meta.sex, meta.study_date)
    if row is None:
        return None, "no patient data: the file is not in manifest.csv and has no DICOM patient tags"
    if row.age_months is None:
        age = meta.age_months
        if age is None:
            return None, "patient age unknown: give age_years or age_months in manifest.csv"
        row = replace(row, age_months=age, sex=row.sex or meta.sex, study_date=row.study_date or meta.study_date)
    return row, ""


def _patient(session: Session, state: IngestState, pseudonym: str, sex: str | None, identifier: str) -> Patient:
    """The hospital's patient row for ``pseudonym``; created with the identifier encrypted.

    A patient first seen before identifiers were kept gets theirs on the next upload.
    """
    patient = state.patients.get(pseudonym) or session.scalar(
        select(Patient).where(Patient.hospital_id == state.hospital.id, Patient.pseudonym == pseudonym))
    if patient is None:
        patient = Patient(hospital_id=state.hospital.id, pseudonym=pseudonym, sex=sex,
                          identifier=state.cipher.encrypt(identifier.strip()))
        session.add(patient)
        session.flush()
    elif patient.identifier is None:
        patient.identifier = state.cipher.encrypt(identifier.strip())
    state.patients[pseudonym] = patient
    return patient
