"""The part of a received DICOM image that results must carry back: patient, study and image ids.

Results written into a hospital's study (SR, encapsulated PDF, secondary capture)
need the source's patient module, its general study module and the ids of the
image they refer to; nothing else of the header is kept. :func:`source_subset`
copies exactly those attributes; :func:`seal_source` turns them into an encrypted
token (:mod:`screening.sealing`) stored in ``dicom_sources``, and
:func:`open_source` gives them back as a pydicom Dataset when results are built.
These values never reach a log line, an object key or a page.
"""

from __future__ import annotations

import json

from pydicom.dataset import Dataset

from screening.sealing import Sealer

# The patient module, the general study module and the patient-study age, as in the source.
PATIENT_AND_STUDY = (
    "SpecificCharacterSet",
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
    "StudyDescription", "PatientAge",
)
# What identifies the source image and describes it (references, the SR image library's descriptors).
SOURCE_IMAGE = (
    "SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "Modality", "BodyPartExamined",
    "Laterality", "ImageLaterality", "PatientOrientation", "Rows", "Columns", "SamplesPerPixel",
    "PhotometricInterpretation", "BitsAllocated", "PixelRepresentation", "PixelSpacing", "ImagerPixelSpacing",
)
KEPT = PATIENT_AND_STUDY + SOURCE_IMAGE
REQUIRED = ("StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID", "SOPInstanceUID")


class SourceError(ValueError):
    """The image lacks an id that results must refer to."""


def source_subset(dataset: Dataset) -> Dataset:
    """A new Dataset with only the attributes of :data:`KEPT` that ``dataset`` has."""
    missing = [keyword for keyword in REQUIRED if not dataset.get(keyword)]
    if missing:
        raise SourceError(f"the DICOM image lacks {', '.join(missing)}: results could not refer to it")
    subset = Dataset()
    for keyword in KEPT:
        if keyword in dataset:
            subset.add(dataset[keyword])
    return subset


def seal_source(sealer: Sealer, dataset: Dataset) -> str:
    """The kept attributes of ``dataset`` as one encrypted token (DICOM JSON inside)."""
    return sealer.seal(json.dumps(source_subset(dataset).to_json_dict()).encode())


def open_source(sealer: Sealer, token: str) -> Dataset:
    """The kept attributes back as a Dataset (in memory only)."""
    return Dataset.from_json(json.loads(sealer.open(token)))
