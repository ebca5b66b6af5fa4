"""DICOM objects that put a screening result back into the hospital's study: pure functions.

Three objects per screened image, each in a new series of the source's study
(same StudyInstanceUID, patient and study modules copied from the source, a
reference to the source image), built with maintained libraries:

* :func:`measurement_report`: a Comprehensive SR, TID 1500 measurement report
  (highdicom): the class, the three probabilities, the DXA referral flag, the
  model's name and version (TID 4019 algorithm identification) and the
  screening-aid statement;
* :func:`overlay_capture`: the Grad-CAM overlay as a Secondary Capture image
  (highdicom), for viewers that show neither SR nor SEG;
* :func:`encapsulated_report`: the patient's PDF report as an Encapsulated PDF
  (the Encapsulated Document module on highdicom's SOP base).

Inputs are values, outputs are pydicom Datasets; nothing here reads the database,
the object store or the network. Instance UIDs are given by the caller
(:mod:`screening.interop.uids` makes them deterministic, so a resend replaces
rather than duplicates).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes
from pydicom.uid import EncapsulatedPDFStorage, ExplicitVRLittleEndian
from pydicom.valuerep import DA, TM

from screening.db.models import RiskClass
from screening.interop import codes as osteo
from screening.vocabulary import CLASS_LABELS, REPORT_DISCLAIMER

MANUFACTURER = "OSTEO AI"
PRODUCT = "OSTEO AI"
# Purpose of reference of the source image in derived objects (PS3.16 CID 7202).
SOURCE_FOR_PROCESSING = hd.sr.CodedConcept("121322", "DCM", "Source image for image processing operation")

# highdicom logs the source's SOP Instance UID at INFO when it copies modules: keep ids out of worker logs.
logging.getLogger("highdicom").setLevel(logging.WARNING)


@dataclass(frozen=True)
class NewInstance:
    """Where a new object goes: its series and instance UIDs and numbers."""

    series_uid: str
    sop_uid: str
    series_number: int
    instance_number: int = 1


@dataclass(frozen=True)
class Radiogrammetry:
    """The metacarpal measurement of the image (screening.measurement), when the hand was measured."""

    cortical_index: float
    cortical_thickness_mm: float | None  # only with a known pixel spacing
    version: str
    tracking_uid: str


@dataclass(frozen=True)
class ScreeningFinding:
    """One screened image's result and the model that produced it."""

    predicted_class: RiskClass
    probabilities: dict[RiskClass, float]
    referred: bool
    model_name: str
    model_version: str
    # Deterministic ids of the observer device and of the measurement group (uids.py).
    device_uid: str
    tracking_uid: str
    radiogrammetry: Radiogrammetry | None = None

    @property
    def statement(self) -> str:
        """The screening-aid statement every object carries, with the model that produced the result."""
        return f"{REPORT_DISCLAIMER} Produced by {PRODUCT} model {self.model_name}, version {self.model_version}."


def measurement_report(source: Dataset, finding: ScreeningFinding, where: NewInstance) -> hd.sr.ComprehensiveSR:
    """A Comprehensive SR (TID 1500) with the finding, referring to ``source``'s image."""
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=finding.tracking_uid, identifier="OSTEO AI bone screening"),
        algorithm_id=hd.sr.AlgorithmIdentification(name=finding.model_name, version=finding.model_version),
        finding_sites=[hd.sr.FindingSite(anatomic_location=osteo.HAND)],
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(source)],
        measurements=[
            hd.sr.Measurement(name=osteo.PROBABILITY[risk], value=round(float(finding.probabilities[risk]), 6),
                              unit=osteo.NO_UNITS)
            for risk in RiskClass],
        qualitative_evaluations=[
            hd.sr.QualitativeEvaluation(osteo.SCREENING_CLASS, osteo.CLASS_FINDING[finding.predicted_class]),
            hd.sr.QualitativeEvaluation(osteo.REFER_FOR_DXA, osteo.YES if finding.referred else osteo.NO),
        ],
    )
    observer = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=finding.device_uid, name=PRODUCT, manufacturer_name=MANUFACTURER, model_name=finding.model_name))
    groups = [group, *_radiogrammetry_group(source, finding)]
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=osteo.PROCEDURE, imaging_measurements=groups, referenced_images=_image_library(source))
    root = report[0]
    root.ContentSequence.append(_statement(finding))
    sr = hd.sr.ComprehensiveSR(
        evidence=[source], content=root, series_instance_uid=where.series_uid, series_number=where.series_number,
        sop_instance_uid=where.sop_uid, instance_number=where.instance_number, manufacturer=MANUFACTURER,
        is_complete=True, is_final=False, is_verified=False,
        series_description="OSTEO AI screening result (screening aid)",
        manufacturer_model_name=finding.model_name, software_versions=finding.model_version,
        coding_schemes=[hd.coding_schemes.CodingSchemeIdentificationItem(designator=osteo.SCHEME,
                                                                          name=osteo.SCHEME_NAME)])
    return sr


def _radiogrammetry_group(source: Dataset,
                          finding: ScreeningFinding) -> list[hd.sr.MeasurementsAndQualitativeEvaluations]:
    """A second TID 1501 group with the metacarpal cortex values and the measurement's method version."""
    measured = finding.radiogrammetry
    if measured is None:
        return []
    values = [hd.sr.Measurement(name=osteo.CORTICAL_INDEX, value=round(measured.cortical_index, 4),
                                unit=osteo.NO_UNITS)]
    if measured.cortical_thickness_mm is not None:
        values.append(hd.sr.Measurement(name=osteo.CORTICAL_THICKNESS, value=round(measured.cortical_thickness_mm, 3),
                                        unit=osteo.MILLIMETRE))
    return [hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=measured.tracking_uid,
                                                     identifier="OSTEO AI metacarpal radiogrammetry"),
        algorithm_id=hd.sr.AlgorithmIdentification(name=osteo.RADIOGRAMMETRY, version=measured.version),
        finding_sites=[hd.sr.FindingSite(anatomic_location=osteo.HAND)],
        source_images=[hd.sr.SourceImageForMeasurementGroup.from_source_image(source)], measurements=values)]


def _image_library(source: Dataset) -> list[Dataset] | None:
    """TID 1600's image library entry for the source, when its header has what the entry describes.

    The library is optional in TID 1500; a projection radiograph's entry needs the
    patient orientation and the imager pixel spacing, which not every export keeps.
    """
    return [source] if _orientation(source) and source.get("ImagerPixelSpacing") else None


def _statement(finding: ScreeningFinding) -> hd.sr.ContainerContentItem:
    """TID 1500's report-level Qualitative Evaluations container: the class in words and the screening-aid text."""
    container = hd.sr.ContainerContentItem(name=osteo.QUALITATIVE_EVALUATIONS,
                                           relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)
    container.ContentSequence = Sequence([
        hd.sr.TextContentItem(name=osteo.COMMENT, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
                              value=f"Screening class: {CLASS_LABELS[finding.predicted_class]}; "
                                    f"refer for DXA: {'yes' if finding.referred else 'no'}. {finding.statement}"),
    ])
    return container


GRADCAM = ("Grad-CAM: where the model looked, on the hand region of the source image.",
           "Grad-CAM heatmap blended over the CLAHE-enhanced hand region")
MEASUREMENT = ("Metacarpal radiogrammetry: the measured cortex of MC2-MC4 drawn on the hand region of the source "
               "image.", "Measured outer and medullary widths drawn over the hand region")


def overlay_capture(source: Dataset, rgb: np.ndarray, finding: ScreeningFinding, where: NewInstance,
                    what: tuple[str, str] = GRADCAM) -> hd.sc.SCImage:
    """An overlay (uint8 RGB, (rows, columns, 3)) as a Secondary Capture in ``source``'s study.

    ``what``: (comment, derivation) of the picture: :data:`GRADCAM` or :data:`MEASUREMENT`.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"the overlay must be uint8 RGB (rows, columns, 3), got {rgb.dtype} {rgb.shape}")
    orientation = _orientation(source)
    capture = hd.sc.SCImage.from_ref_dataset(
        source, rgb, hd.PhotometricInterpretationValues.RGB, 8, hd.CoordinateSystemNames.PATIENT,
        where.series_uid, where.series_number, where.sop_uid, where.instance_number, MANUFACTURER,
        patient_orientation=orientation or ("L", "F"), transfer_syntax_uid=ExplicitVRLittleEndian,
        series_description="OSTEO AI overlays (screening aid)",
        manufacturer_model_name=finding.model_name, software_versions=finding.model_version)
    if orientation is None:
        capture.PatientOrientation = []  # unknown in the source: Type 2C allows it empty, and nothing is guessed
    capture.BurnedInAnnotation = "NO"
    capture.ImageComments = f"{what[0]} {finding.statement}"[:10240]
    capture.DerivationDescription = what[1]
    capture.SourceImageSequence = [_reference(source, with_purpose=True)]
    return capture


def encapsulated_report(source: Dataset, pdf: bytes, title: str, finding: ScreeningFinding,
                        where: NewInstance, created: datetime) -> Dataset:
    """The patient's PDF report as an Encapsulated PDF in ``source``'s study, referring to the source image."""
    if not pdf.startswith(b"%PDF"):
        raise ValueError("the report is not a PDF document")
    document = hd.base.SOPClass(
        study_instance_uid=source.StudyInstanceUID, series_instance_uid=where.series_uid,
        series_number=where.series_number, sop_instance_uid=where.sop_uid, sop_class_uid=EncapsulatedPDFStorage,
        instance_number=where.instance_number, modality="DOC", manufacturer=MANUFACTURER,
        transfer_syntax_uid=ExplicitVRLittleEndian, patient_id=source.get("PatientID"),
        patient_name=source.get("PatientName"), patient_birth_date=source.get("PatientBirthDate"),
        patient_sex=source.get("PatientSex") or None, accession_number=source.get("AccessionNumber"),
        study_id=source.get("StudyID"), study_date=source.get("StudyDate"), study_time=source.get("StudyTime"),
        referring_physician_name=source.get("ReferringPhysicianName"),
        series_description="OSTEO AI screening report (screening aid)",
        manufacturer_model_name=finding.model_name, software_versions=finding.model_version)
    for keyword in ("SpecificCharacterSet", "IssuerOfPatientID", "StudyDescription", "PatientAge"):
        if keyword in source:
            document.add(source[keyword])
    stamp = created.strftime("%Y%m%d%H%M%S")
    document.ContentDate, document.ContentTime = DA(stamp[:8]), TM(stamp[8:])
    document.AcquisitionDateTime = stamp
    document.ConversionType = "WSD"  # workstation: made by software, not scanned
    document.BurnedInAnnotation = "NO"  # the report names the patient only by pseudonym
    document.DocumentTitle = title[:64]
    document.ConceptNameCodeSequence = []
    document.MIMETypeOfEncapsulatedDocument = "application/pdf"
    document.SourceInstanceSequence = [_reference(source, with_purpose=False)]
    document.EncapsulatedDocumentLength = len(pdf)
    document.EncapsulatedDocument = pdf + (b"\x00" if len(pdf) % 2 else b"")
    return document


def _orientation(source: Dataset) -> tuple[str, str] | None:
    """The source image's PatientOrientation when it is a valid pair (the overlay is a crop of it)."""
    value = source.get("PatientOrientation")
    if value is None or isinstance(value, str) or len(value) != 2:
        return None
    row, column = (str(v) for v in value)
    try:
        hd.PatientOrientationValuesBiped(row), hd.PatientOrientationValuesBiped(column)
    except ValueError:
        return None
    return row, column


def _reference(source: Dataset, with_purpose: bool) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = source.SOPClassUID
    item.ReferencedSOPInstanceUID = source.SOPInstanceUID
    if with_purpose:
        item.PurposeOfReferenceCodeSequence = [SOURCE_FOR_PROCESSING]
    return item
