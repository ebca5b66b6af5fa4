"""FHIR export: screening results as an R4-family Bundle, built and validated with ``fhir.resources``.

One DiagnosticReport per patient and batch (its conclusion in words and coded, the
PDF report as ``presentedForm``) with its Observations: the screening class
(SNOMED CT), the three class probabilities and the DXA referral flag, each naming
the model and version in ``device`` and carrying the screening-aid statement, and,
when the hand was measured, the metacarpal cortical index and thickness (naming the
radiogrammetry method's version). The
patient is the pseudonym only, as everywhere outside the hospital's own systems.

Validated against ``fhir.resources``' R4B models (FHIR 4.3, the R4 family; the
resources used here, Bundle, Patient, DiagnosticReport and Observation, have the
same elements in R4 4.0.1). A Bundle that fails validation is a bug and raises.
Both ``preliminary``: a model's output that no clinician has verified.
"""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from screening.db.models import Batch, Image, Patient, Prediction, Report, RiskClass
from screening.interop import codes
from screening.results import overall_result
from screening.vocabulary import CLASS_LABELS, REPORT_DISCLAIMER

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
LOCAL = "urn:osteo-ai:codes"  # the 99OSTEO concepts of the DICOM SR, as a FHIR code system
PSEUDONYMS = "urn:osteo-ai:pseudonym"
RADIOLOGY = {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "RAD", "display": "Radiology"}
IMAGING = {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "imaging",
           "display": "Imaging"}
REPORT_CODE = {"coding": [{"system": LOCAL, "code": "OSTEO-SCREENING",
                           "display": "Bone density screening from hand radiograph (OSTEO AI)"}],
               "text": "Bone density screening from hand radiograph"}
GENDER = {"F": "female", "M": "male"}


@dataclass(frozen=True)
class Screened:
    """One screened image with what the export needs about it."""

    patient: Patient
    batch: Batch
    image: Image
    prediction: Prediction
    report: Report | None
    model_name: str


def bundle(items: Sequence[Screened], read_pdf: Callable[[str], bytes], now: datetime | None = None) -> dict[str, Any]:
    """The validated Bundle (as JSON-ready dict) for ``items``; ``read_pdf(key)`` gives a stored report."""
    moment = (now or datetime.now(UTC)).isoformat()
    entries: list[dict[str, Any]] = []
    patients: dict[int, str] = {}
    groups: dict[tuple[int, str], list[Screened]] = defaultdict(list)
    for item in items:
        groups[(item.patient.id, item.batch.id)].append(item)
        if item.patient.id not in patients:
            patients[item.patient.id] = _urn("patient", item.patient.hospital_id, item.patient.pseudonym)
            entries.append(_entry(patients[item.patient.id], _patient(item.patient)))
    for group in groups.values():
        subject = patients[group[0].patient.id]
        observations: list[str] = []
        for item in group:
            for key, observation in _observations(item, subject):
                url = _urn("observation", item.prediction.id, key)
                observations.append(url)
                entries.append(_entry(url, observation))
        first = group[0]
        entries.append(_entry(_urn("report", first.patient.id, first.batch.id),
                              _diagnostic_report(group, subject, observations, read_pdf)))
    document = {"resourceType": "Bundle", "type": "collection", "timestamp": moment, "entry": entries}
    return Bundle.model_validate(document).model_dump(mode="json", exclude_none=True)


def _urn(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'osteo-ai/' + '/'.join(str(p) for p in parts))}"


def _entry(url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": url, "resource": resource}


def _patient(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Patient", "identifier": [
        {"system": f"{PSEUDONYMS}:{patient.hospital.code}", "value": patient.pseudonym}]}
    if patient.sex in GENDER:
        resource["gender"] = GENDER[patient.sex]
    return resource


def _coding(code: Any, system: str) -> dict[str, Any]:
    return {"system": system, "code": code.value, "display": code.meaning}


def _statement(item: Screened) -> str:
    version = item.prediction.model_version_id
    return f"{REPORT_DISCLAIMER} Produced by OSTEO AI model {item.model_name}, version {version}."


def _observations(item: Screened, subject: str) -> list[tuple[str, dict[str, Any]]]:
    p = item.prediction
    common = {
        "resourceType": "Observation", "status": "preliminary", "category": [{"coding": [IMAGING]}],
        "subject": {"reference": subject}, "issued": _instant(p.created_at),
        "bodySite": {"coding": [_coding(codes.HAND, SNOMED)]},
        "device": {"display": f"OSTEO AI {item.model_name} (model version {p.model_version_id})"},
        "note": [{"text": _statement(item)}],
    }
    if item.image.study_date:
        common["effectiveDateTime"] = item.image.study_date.isoformat()
    risk = RiskClass(p.predicted_class)
    found: list[tuple[str, dict[str, Any]]] = [("class", {**common, "code": _local(codes.SCREENING_CLASS),
                        "valueCodeableConcept": {"coding": [_coding(codes.CLASS_FINDING[risk], SNOMED)],
                                                 "text": CLASS_LABELS[risk]}}),
             ("refer", {**common, "code": _local(codes.REFER_FOR_DXA), "valueBoolean": bool(p.referred)})]
    values = {RiskClass.NORMAL: p.p_normal, RiskClass.OSTEOPENIA: p.p_osteopenia,
              RiskClass.OSTEOPOROSIS: p.p_osteoporosis}
    for cls, value in values.items():
        found.append((f"p-{cls.value}", {**common, "code": _local(codes.PROBABILITY[cls]), "valueQuantity": {
            "value": round(float(value), 6), "unit": "probability", "system": UCUM, "code": "1"}}))
    return found + _radiogrammetry(item, common)


def _radiogrammetry(item: Screened, common: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The metacarpal measurement (screening.measurement) when the hand was measured; its own method version."""
    image = item.image
    if not image.measured or image.cortical_index is None:
        return []
    method = {**common, "device": {"display": f"OSTEO AI {codes.RADIOGRAMMETRY} ({image.radiogrammetry_version})"},
              "note": [{"text": f"{REPORT_DISCLAIMER} Measured by {codes.RADIOGRAMMETRY}, "
                                f"{image.radiogrammetry_version}."}]}
    found = [("cortical-index", {**method, "code": _local(codes.CORTICAL_INDEX), "valueQuantity": {
        "value": round(float(image.cortical_index), 4), "unit": "ratio", "system": UCUM, "code": "1"}})]
    if image.cortical_thickness_mm is not None:
        found.append(("cortical-thickness", {**method, "code": _local(codes.CORTICAL_THICKNESS), "valueQuantity": {
            "value": round(float(image.cortical_thickness_mm), 3), "unit": "mm", "system": UCUM, "code": "mm"}}))
    return found


def _local(code: Any) -> dict[str, Any]:
    return {"coding": [{"system": LOCAL, "code": code.value, "display": code.meaning}], "text": code.meaning}


def _diagnostic_report(group: list[Screened], subject: str, observations: list[str],
                       read_pdf: Callable[[str], bytes]) -> dict[str, Any]:
    worst = overall_result([item.prediction for item in group])
    assert worst is not None  # every item of the group was screened
    item = next(i for i in group if i.prediction is worst)
    risk = RiskClass(worst.predicted_class)
    referred = any(i.prediction.referred for i in group)
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport", "status": "preliminary", "category": [{"coding": [RADIOLOGY]}],
        "code": REPORT_CODE, "subject": {"reference": subject}, "issued": _instant(worst.created_at),
        "result": [{"reference": url} for url in observations],
        "conclusion": (f"Screening class: {CLASS_LABELS[risk]} (P(osteoporosis) {worst.p_osteoporosis:.2f}); "
                       f"refer for DXA: {'yes' if referred else 'no'}. {_statement(item)}"),
        "conclusionCode": [{"coding": [_coding(codes.CLASS_FINDING[risk], SNOMED)], "text": CLASS_LABELS[risk]}],
    }
    if item.image.study_date:
        resource["effectiveDateTime"] = item.image.study_date.isoformat()
    report = item.report
    if report is not None and report.pdf_key and report.error is None:
        resource["presentedForm"] = [{
            "contentType": "application/pdf", "title": "Bone health screening report (screening aid)",
            "data": base64.b64encode(read_pdf(report.pdf_key)).decode("ascii"),
            "creation": _instant(report.created_at)}]
    return resource


def _instant(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
