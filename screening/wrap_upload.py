"""Making an archive of what is not one: a single X-ray with its patient's fields, or a folder.

The one-study API and ``osteo screen IMAGE`` or ``osteo screen FOLDER`` hand the
pipeline a zip built here, so a single image runs exactly the steps every batch
runs (a batch of one) and nothing downstream needs a second path. The zip is
stored, not compressed: X-ray files are already compressed or are about to be
read once.

For a single image, age, sex, patient id and study date come from the caller's
fields, else from the DICOM tags; what is still missing, or malformed, is refused
here with a sentence (:class:`StudyFieldsError`) before anything is stored, using
the manifest parser's own rules (:func:`screening.archives.parse_manifest`). A
patient id is optional: without one (and without a DICOM PatientID) the image's
own content hash names the patient, so every such image is a patient of its own.
The id only ever reaches the database as a keyed pseudonym, as in any upload.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from screening.archives import MANIFEST_NAME, parse_manifest
from screening.imaging.decode import sniff_format
from screening.imaging.decoded import DecodeError, ImageMetadata
from screening.imaging.dicom import read_dataset, read_metadata

SUFFIXES = {"png": ".png", "jpeg": ".jpg", "dicom": ".dcm", "dicom-bare": ".dcm"}
HEAD_BYTES = 512  # enough to recognise PNG, JPEG and DICOM by their magic bytes


class StudyFieldsError(ValueError):
    """The image or its patient fields cannot make a screening; the message says why, for the caller."""


@dataclass(frozen=True)
class StudyFields:
    """What the caller says about the patient; empty strings count as not given."""

    patient_id: str | None = None
    age_years: str | None = None
    age_months: str | None = None
    sex: str | None = None
    study_date: str | None = None


@dataclass(frozen=True)
class WrappedImage:
    """The zip (in ``target``) and what it holds."""

    member: str  # the image's name inside the zip (shown as the batch's file)
    source_format: str  # png | jpeg | dicom | dicom-bare


def single_image_archive(source: IO[bytes], filename: str | None, fields: StudyFields,
                         target: IO[bytes]) -> WrappedImage:
    """Write a zip of the image in ``source`` and a one-row manifest.csv into ``target``.

    Raises :class:`StudyFieldsError` when the file is not a PNG, JPEG or DICOM image,
    or when age or sex is neither given nor in the DICOM tags, or a field is malformed.
    """
    with tempfile.TemporaryFile(prefix="osteo-image-") as spool:
        shutil.copyfileobj(source, spool, 1024 * 1024)
        size = spool.tell()
        if size == 0:
            raise StudyFieldsError("the image is empty (0 bytes)")
        spool.seek(0)
        head = spool.read(HEAD_BYTES)
        kind = sniff_format(head)
        if kind is None:
            raise StudyFieldsError("the file is not a PNG, JPEG or DICOM image")
        spool.seek(0)
        digest = _sha256(spool)
        tags = _dicom_tags(spool) if kind.startswith("dicom") else ImageMetadata()
        member = _member_name(filename, kind)
        manifest = _manifest(member, fields, tags, digest)
        spool.seek(0)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            archive.writestr(MANIFEST_NAME, manifest)
            with archive.open(member, "w", force_zip64=size > 2**31) as out:
                shutil.copyfileobj(spool, out, 1024 * 1024)
    return WrappedImage(member, kind)


def folder_archive(folder: Path, target: IO[bytes]) -> int:
    """Write a zip of every file under ``folder`` (hidden ones skipped) into ``target``; returns the count.

    A ``manifest.csv`` at the folder's top level goes in as the batch manifest;
    without one, DICOM files take their patient from their tags, as in any archive.
    """
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder).as_posix())
    return len(files)


def _sha256(stream: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(1024 * 1024):
        digest.update(chunk)
    stream.seek(0)
    return digest.hexdigest()


def _dicom_tags(stream: IO[bytes]) -> ImageMetadata:
    """Age, sex, patient id and study date from the DICOM header, read the way ingest reads them."""
    data = stream.read()
    stream.seek(0)
    try:
        return read_metadata(read_dataset(data, has_preamble=data[128:132] == b"DICM"))
    except DecodeError as exc:
        raise StudyFieldsError(exc.reason) from None


def _member_name(filename: str | None, kind: str) -> str:
    """The upload's own base name when it is a usable one, else ``image`` with the format's suffix."""
    base = PurePosixPath((filename or "").replace("\\", "/")).name.strip()
    if not base or base.startswith(".") or base.lower() == MANIFEST_NAME or not base.isprintable():
        base = "image" + SUFFIXES[kind]
    return base[:200]


def _given(value: str | None) -> str:
    return (value or "").strip()


def _manifest(member: str, fields: StudyFields, tags: ImageMetadata, digest: str) -> bytes:
    """manifest.csv with the one row, checked by the manifest parser (one set of rules for every upload)."""
    age_years, age_months = _given(fields.age_years), _given(fields.age_months)
    if not age_years and not age_months and tags.age_months is not None:
        age_months = str(tags.age_months)
    if not age_years and not age_months:
        raise StudyFieldsError("the patient's age is needed: give age_years (or age_months); "
                               "the image has no DICOM age or birth date")
    sex = _given(fields.sex) or (tags.sex or "")
    if not sex:
        raise StudyFieldsError("the patient's sex is needed: give sex (F or M); the image has no DICOM sex")
    patient_id = _given(fields.patient_id) or (tags.patient_id or "") or f"image-sha256-{digest}"
    study_date = _given(fields.study_date) or (tags.study_date.isoformat() if tags.study_date else "")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["file", "patient_id", "age_years", "age_months", "sex", "study_date"])
    writer.writerow([member, patient_id, age_years, age_months if not age_years else "", sex, study_date])
    data = text.getvalue().encode()
    parsed = parse_manifest(data)
    if parsed.problems:
        raise StudyFieldsError(parsed.problems[0])
    if member in parsed.invalid:
        raise StudyFieldsError(parsed.invalid[member].split(": ", 1)[-1])
    return data
