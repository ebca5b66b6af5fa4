"""The FHIR Bundle of one patient's batch with two images: the worst class concludes, any referral refers."""

from datetime import UTC, date, datetime

from fhir.resources.R4B.bundle import Bundle

from screening.db.models import Batch, Hospital, Image, Patient, Prediction, RiskClass
from screening.interop.fhir import Screened, bundle

AT = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def _item(image_id: int, risk: RiskClass, probabilities: tuple[float, float, float], referred: bool,
          patient: Patient, batch: Batch) -> Screened:
    image = Image(id=image_id, batch_id=batch.id, filename=f"{image_id}.png", study_date=date(2024, 2, 28))
    prediction = Prediction(id=image_id, image_id=image_id, model_version_id="mv-1", predicted_class=risk,
                            p_normal=probabilities[0], p_osteopenia=probabilities[1], p_osteoporosis=probabilities[2],
                            referred=referred, created_at=AT)
    return Screened(patient, batch, image, prediction, None, "fusion-test")


def test_two_images_make_one_report_with_the_worst_class_and_ten_observations() -> None:
    hospital = Hospital(id=1, code="DH1", name="One", district="d", region="r")
    patient = Patient(id=3, hospital_id=1, pseudonym="PABC", sex="M", hospital=hospital)
    batch = Batch(id="b1", hospital_id=1)
    items = [_item(1, RiskClass.NORMAL, (0.7, 0.2, 0.1), False, patient, batch),
             _item(2, RiskClass.OSTEOPENIA, (0.2, 0.5, 0.3), True, patient, batch)]
    document = bundle(items, read_pdf=lambda key: b"", now=AT)
    Bundle.model_validate(document)
    reports = [e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "DiagnosticReport"]
    assert len(reports) == 1 and "presentedForm" not in reports[0]
    assert reports[0]["conclusion"].startswith("Screening class: Low bone mass (osteopenia) (P(osteoporosis) 0.30); "
                                               "refer for DXA: yes.")
    assert reports[0]["effectiveDateTime"] == "2024-02-28" and len(reports[0]["result"]) == 10
    assert len({e["fullUrl"] for e in document["entry"]}) == len(document["entry"]) == 12


def test_a_measured_hand_adds_the_cortex_observations_with_the_method_version() -> None:
    hospital = Hospital(id=1, code="DH1", name="One", district="d", region="r")
    patient = Patient(id=4, hospital_id=1, pseudonym="PDEF", sex="F", hospital=hospital)
    item = _item(5, RiskClass.OSTEOPOROSIS, (0.1, 0.2, 0.7), True, patient, Batch(id="b2", hospital_id=1))
    item.image.measured, item.image.cortical_index, item.image.cortical_thickness_mm = True, 0.41, 1.52
    item.image.radiogrammetry_version = "radiogrammetry-1.2"
    document = bundle([item], read_pdf=lambda key: b"", now=AT)
    Bundle.model_validate(document)
    by_code = {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in document["entry"]
               if e["resource"]["resourceType"] == "Observation"}
    assert by_code["OSTEO-CI"]["valueQuantity"]["value"] == 0.41
    assert by_code["OSTEO-CT"]["valueQuantity"] == {"value": 1.52, "unit": "mm", "system": "http://unitsofmeasure.org",
                                                    "code": "mm"}
    assert "radiogrammetry-1.2" in by_code["OSTEO-CI"]["device"]["display"] and len(by_code) == 7
