"""Builders for test inputs: synthetic archives of phantom X-rays and a tiny model bundle."""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile
from pathlib import Path

from training.phantoms import SCREENING_MIN_AGE, write_dataset


def write_phantom_archive(path: Path, count: int, seed: int = 0, size: int = 320,
                          extra: dict[str, bytes] | None = None,
                          overrides: dict[int, dict[str, str]] | None = None) -> Path:
    """A zip (or .tar.gz by suffix) of ``count`` phantom PNGs plus manifest.csv and ``extra`` members.

    The phantom patients are all in the default screening population (50 and over).
    ``overrides`` maps an image's index to manifest values that replace or add columns
    (``{0: {"age_years": "30", "pixel_spacing_mm": "0.1"}}``); the phantoms' own
    ground truth stays in ``{path.stem}-src/manifest.csv``.
    """
    source = path.parent / f"{path.stem}-src"
    manifest = write_dataset(source, count, seed=seed, size=size, min_age_years=SCREENING_MIN_AGE)
    members: dict[str, bytes] = {}
    with manifest.open() as fh:
        rows = list(csv.DictReader(fh))
    overrides = overrides or {}
    columns = ["file", "patient_id", "age_years", "sex"]
    columns += sorted({name for values in overrides.values() for name in values} - set(columns))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for index, row in enumerate(rows):
        values = {**row, **{name: "" for name in columns if name not in row}, **overrides.get(index, {})}
        writer.writerow([values[name] for name in columns])
        members[row["file"]] = (source / row["file"]).read_bytes()
    members["manifest.csv"] = out.getvalue().encode()
    members.update(extra or {})
    if path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path, "w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    return path


def make_tiny_bundle(directory: Path, input_size: int = 64, refer_threshold: float = 0.3) -> Path:
    """A compact fusion model with random weights: fast to load and run in tests (0.0 refers everyone)."""
    import warnings

    from screening.model import ModelCard, build_fusion_model, save_bundle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_fusion_model("compact", input_size)
    card = ModelCard(name="test-tiny", backbone="compact", input_size=input_size, synthetic_demo=True,
                     thresholds={"refer_osteoporosis_probability": refer_threshold})
    save_bundle(model, card, directory)
    return directory


def phantom_png(directory: Path, seed: int = 0, size: int = 320) -> tuple[Path, dict[str, str]]:
    """One phantom hand PNG (a patient of the screening population) and its manifest row."""
    manifest = write_dataset(directory, 1, seed=seed, size=size, min_age_years=SCREENING_MIN_AGE)
    with manifest.open() as fh:
        row = next(csv.DictReader(fh))
    return directory / row["file"], row


def phantom_dicom(png: Path, *, patient_id: str = "MRN-0042", age_years: int | None = 67, sex: str | None = "F",
                  study_uid: str | None = None, series_uid: str | None = None, instance: int = 1,
                  accession: str = "ACC-1") -> bytes:
    """A CR DICOM of a hand phantom with a real patient/study header (the identifiers a PACS sends)."""
    import numpy as np
    from PIL import Image as PILImage
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ComputedRadiographyImageStorage, ExplicitVRLittleEndian, generate_uid

    pixels = np.asarray(PILImage.open(png).convert("L"), dtype=np.uint16) * 16  # 12-bit stored values
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ComputedRadiographyImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = ComputedRadiographyImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.SeriesNumber, ds.InstanceNumber = 1, instance
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240301", "101500", "1", accession
    ds.Modality, ds.BodyPartExamined = "CR", "HAND"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Doe^Jane", patient_id, ""
    ds.ReferringPhysicianName = ""
    if age_years is not None:
        ds.PatientAge = f"{age_years:03d}Y"
    if sex is not None:
        ds.PatientSex = sex
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelSpacing = [0.1, 0.1]
    ds.PixelData = pixels.astype("<u2").tobytes()
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def set_patient_ids(archive: Path, ids: list[str]) -> list[str]:
    """Give the manifest rows of a zip from :func:`write_phantom_archive` these patient ids, in order.

    Returns the file names the ids went to.
    """
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    rows = list(csv.DictReader(io.StringIO(members["manifest.csv"].decode())))
    for row, patient_id in zip(rows, ids, strict=False):
        row["patient_id"] = patient_id
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    members["manifest.csv"] = out.getvalue().encode()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return [row["file"] for row in rows[:len(ids)]]


def add_referred_batch(session, settings, hospital_code: str, count: int, created, model_version_id: str,
                       prefix: str = "MRN-", first: int = 0, refer_every: int = 1):  # type: ignore[no-untyped-def]
    """A finished batch of ``count`` patients n = first, first + 1, ... (hospital ids ``{prefix}{n:05d}``):
    patients' latest results refreshed, referrals opened and people counted, as finalize does.

    Patient n has P(osteoporosis) 0.30 + (n % 100)/200 (osteoporosis from 0.5 up), sex M when n % 3 == 0,
    age 52 + n % 40 years; every ``refer_every``-th is referred (all by default). Returns the batch.
    """
    from sqlalchemy import select

    from screening.accounts import get_hospital
    from screening.db.models import Batch, BatchStatus, Image, Patient, Prediction, Quality, RiskClass
    from screening.followup.finished import follow_up_batch
    from screening.identity import identity_cipher
    from screening.pseudonyms import pseudonymise
    from screening.rollups import refresh_patients

    hospital = get_hospital(session, hospital_code)
    cipher = identity_cipher(settings)
    batch = Batch(hospital_id=hospital.id, original_filename=f"{prefix.strip('-').lower()}-day.zip",
                  status=BatchStatus.COMPLETE, model_version_id=model_version_id, created_at=created,
                  finished_at=created, refer_threshold=0.30)
    session.add(batch)
    session.flush()
    for n in range(first, first + count):
        identifier = f"{prefix}{n:05d}"
        pseudonym = pseudonymise(settings.pseudonym_secret, hospital.code, identifier)
        patient = session.scalar(select(Patient).where(Patient.hospital_id == hospital.id,
                                                       Patient.pseudonym == pseudonym))
        if patient is None:  # a patient screened before keeps their row
            patient = Patient(hospital_id=hospital.id, sex="M" if n % 3 == 0 else "F", pseudonym=pseudonym,
                              identifier=cipher.encrypt(identifier))
            session.add(patient)
            session.flush()
        image = Image(batch_id=batch.id, hospital_id=hospital.id, patient_id=patient.id, filename=f"ward-{n:03d}.png",
                      age_months=(52 + n % 40) * 12, sex=patient.sex, quality=Quality.ACCEPTED)
        session.add(image)
        session.flush()
        p = 0.30 + (n % 100) / 200
        session.add(Prediction(image_id=image.id, batch_id=batch.id, hospital_id=hospital.id, patient_id=patient.id,
                               model_version_id=model_version_id,
                               predicted_class=RiskClass.OSTEOPOROSIS if p >= 0.5 else RiskClass.OSTEOPENIA,
                               p_normal=0.1, p_osteopenia=0.9 - p, p_osteoporosis=p, referred=n % refer_every == 0,
                               created_at=created))
    session.flush()
    refresh_patients(session, batch.id)
    follow_up_batch(session, batch.id)
    return batch
