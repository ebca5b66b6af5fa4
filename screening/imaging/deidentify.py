"""De-identification of DICOM files before they reach object storage.

A subset of the DICOM PS3.15 Basic Application Level Confidentiality Profile, chosen
for what this product keeps: names (every PN element, in sequences too), birth date,
identifiers, addresses, institution, physicians, operators, accession number, free-text
descriptions and comments, and all private tags are removed; UIDs are replaced; the
pseudonym becomes PatientID. Kept, because screening needs them: sex, age (written to
PatientAge from the birth date before that is removed), study date, modality, body part,
and the pixel data, byte for byte (compressed data is not re-encoded).

Not handled: text burned into the pixels, and overlays; these need a human or OCR.
"""

from __future__ import annotations

import hashlib
import io
import re

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID

from .decode import sniff_format
from .decoded import DecodeError
from .dicom import read_dataset, read_metadata

# Removed wherever they occur (also inside sequences).
IDENTIFYING_KEYWORDS = frozenset({
    "PatientBirthDate", "PatientBirthTime", "PatientBirthName", "PatientMotherBirthName",
    "OtherPatientIDs", "OtherPatientIDsSequence", "OtherPatientNames", "IssuerOfPatientID",
    "PatientAddress", "PatientTelephoneNumbers", "PatientTelecomInformation", "CountryOfResidence",
    "RegionOfResidence", "MilitaryRank", "BranchOfService", "MedicalRecordLocator",
    "PatientReligiousPreference", "PatientInsurancePlanCodeSequence", "ResponsiblePerson",
    "ResponsibleOrganization", "PatientComments", "AdditionalPatientHistory", "Occupation",
    "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName", "InstitutionCodeSequence",
    "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "ReferringPhysicianIdentificationSequence", "PhysiciansOfRecordIdentificationSequence",
    "PerformingPhysicianIdentificationSequence", "OperatorIdentificationSequence",
    "AccessionNumber", "StudyID", "AdmissionID", "RequestedProcedureID", "PerformedProcedureStepID",
    "ScheduledProcedureStepID", "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest", "RequestAttributesSequence",
    "StationName", "DeviceSerialNumber", "PlateID", "CassetteID", "DetectorID",
    "StudyDescription", "SeriesDescription", "ImageComments", "StudyComments",
    "RequestedProcedureDescription", "PerformedProcedureStepDescription", "ReasonForStudy",
    "DerivationDescription", "TextComments",
})  # fmt: skip
# Type 2 attributes of the main dataset: emptied, not removed, so the file stays valid DICOM.
_EMPTIED_AT_TOP = frozenset({"PatientName", "PatientBirthDate", "ReferringPhysicianName", "AccessionNumber", "StudyID"})
_PSEUDONYM_PATTERN = re.compile(r"^[^\\\x00-\x1f]{1,64}$")
DEIDENTIFICATION_METHOD = "OSTEO AI: PS3.15 basic profile subset; UIDs remapped"


def deidentify_dicom(data: bytes, pseudonym: str) -> bytes:
    """Return the DICOM file without identifying tags, with ``pseudonym`` as PatientID.

    UIDs are replaced by ``2.25.<hash of pseudonym and original UID>``: the same study
    of the same patient keeps one StudyInstanceUID across files and re-uploads, while
    the original UID cannot be looked up from the new one.
    """
    if not isinstance(pseudonym, str) or not _PSEUDONYM_PATTERN.match(pseudonym):
        raise ValueError("pseudonym must be 1-64 characters without backslashes or control characters")
    kind = sniff_format(bytes(data or b""))
    if kind not in ("dicom", "dicom-bare"):
        raise DecodeError("The file is not a DICOM file, so it cannot be de-identified as one.")
    ds = read_dataset(bytes(data), has_preamble=kind == "dicom")
    _write_age(ds)
    ds.remove_private_tags()
    ds.walk(lambda dataset, element: _scrub(dataset, element, pseudonym, dataset is ds))
    ds.PatientID = pseudonym
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = DEIDENTIFICATION_METHOD
    _fix_file_meta(ds)
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def format_age(months: int) -> str:
    """DICOM Age String: months under 18 years (paediatric age matters to the month), else years."""
    return f"{months:03d}M" if months < 18 * 12 else f"{min(months // 12, 999):03d}Y"


def _write_age(ds: Dataset) -> None:
    """Keep the age that the birth date implies before the birth date is removed."""
    if str(ds.get("PatientAge") or "").strip():
        return
    months = read_metadata(ds).age_months
    if months is not None:
        ds.PatientAge = format_age(months)


def _scrub(dataset: Dataset, element: DataElement, pseudonym: str, top_level: bool) -> None:
    keyword = element.keyword
    if top_level and keyword in _EMPTIED_AT_TOP:
        element.value = ""
    elif element.VR == "PN" or keyword in IDENTIFYING_KEYWORDS:
        del dataset[element.tag]
    elif element.VR == "UI" and element.value:
        element.value = _remap_uids(element.value, pseudonym)


def _remap_uids(value: object, pseudonym: str) -> object:
    if isinstance(value, (list, tuple, MultiValue)):
        return [_remap_uid(str(uid), pseudonym) for uid in value]
    return _remap_uid(str(value), pseudonym)


def _remap_uid(uid: str, pseudonym: str) -> str:
    """Registered UIDs (SOP classes, transfer syntaxes) are standard, not identifying: keep them."""
    if UID(uid).name != uid:
        return uid
    digest = hashlib.sha256(f"{pseudonym}\x00{uid}".encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def _fix_file_meta(ds: Dataset) -> None:
    """Keep the file meta in step with the remapped dataset (also for bare input files)."""
    meta = ds.file_meta
    if "SourceApplicationEntityTitle" in meta:
        del meta.SourceApplicationEntityTitle  # the sending station's name points to the hospital
    if "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if "SOPClassUID" in ds:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
