"""FHIR export: a patient's and a batch's screenings as a Bundle that fhir.resources validates."""

from __future__ import annotations

import base64
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.integration.web.world import MODEL_ID, World

pytestmark = pytest.mark.integration


def _resources(document: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == kind]


def test_a_patient_s_history_is_a_valid_bundle_with_the_report_and_observations(client, world: World) -> None:
    response = client.get(f"/api/v1/patients/{world.patients['NORTH']}/fhir", headers=world.auth("staff_north"))
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    document = json.loads(response.data)
    Bundle.model_validate(document)  # the maintained library's models accept it as it is served
    assert document["type"] == "collection"
    [patient] = _resources(document, "Patient")
    assert patient["identifier"][0]["value"] == world.patients["NORTH"] and patient["gender"] == "female"
    [report] = _resources(document, "DiagnosticReport")
    assert report["status"] == "preliminary" and report["subject"]["reference"].startswith("urn:uuid:")
    assert "Osteoporosis" in report["conclusion"] and "not a diagnosis" in report["conclusion"]
    assert MODEL_ID in report["conclusion"] and report["conclusionCode"][0]["coding"][0]["code"] == "64859006"
    pdf = base64.b64decode(report["presentedForm"][0]["data"])
    assert pdf == b"%PDF-1.4 report of NORTH" and report["presentedForm"][0]["contentType"] == "application/pdf"
    observations = _resources(document, "Observation")
    assert len(observations) == len(report["result"]) == 5
    urls = {e["fullUrl"] for e in document["entry"]}
    assert all(ref["reference"] in urls for ref in report["result"])
    by_code = {o["code"]["coding"][0]["code"]: o for o in observations}
    assert by_code["OSTEO-P-OSTEOPOROSIS"]["valueQuantity"]["value"] == 0.7
    assert by_code["OSTEO-REFER"]["valueBoolean"] is True
    assert by_code["OSTEO-CLASS"]["valueCodeableConcept"]["coding"][0]["system"] == "http://snomed.info/sct"
    assert all(MODEL_ID in o["device"]["display"] for o in observations)


def test_a_batch_exports_only_what_the_caller_may_see(client, world: World) -> None:
    ok = client.get(f"/api/v1/batches/{world.batches['SOUTH']}/fhir", headers=world.auth("official_coast"))
    assert ok.status_code == 200
    document = json.loads(ok.data)
    Bundle.model_validate(document)
    assert len(_resources(document, "DiagnosticReport")) == 1 and len(_resources(document, "Patient")) == 1
    assert client.get(f"/api/v1/batches/{world.batches['SOUTH']}/fhir",
                      headers=world.auth("staff_north")).status_code == 404
    assert client.get(f"/api/v1/patients/{world.patients['HILL']}/fhir",
                      headers=world.auth("official_coast")).status_code == 404
