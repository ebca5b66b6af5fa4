"""The metacarpal measurement in results (JSON and CSV), the patient API, the pages, and its overlay's access rules.

The world's NORTH image gets a stored measurement (as ingest writes it) and NORTH's patient a
second, not-eligible image that is measured and never screened: both must be shown, with the
overlay served exactly as the Grad-CAM overlays are (same scope rules, sandboxed, audited).
"""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from screening.db.models import AuditEvent, Image, Quality
from screening.db.session import session_scope
from tests.integration.web.world import World, login

pytestmark = pytest.mark.integration

OVERLAY = b"\x89PNG measurement"
BONES = [
    {"bone": "MC2", "measured": True, "reason": "", "quality": 0.91, "outer_width": 8.4, "inner_width": 4.2,
     "cortical_thickness": 2.1, "cortical_index": 0.5, "length": 62.0, "unit": "mm",
     "line": [[410.5, 600.25], [494.5, 600.25]], "axis": [[450.0, 900.0], [452.0, 280.0]]},
    {"bone": "MC3", "measured": True, "reason": "", "quality": 0.88, "outer_width": 8.0, "inner_width": 4.4,
     "cortical_thickness": 1.8, "cortical_index": 0.45, "length": None, "unit": "mm",
     "line": [[520.0, 560.0], [600.0, 560.0]], "axis": None},
    {"bone": "MC4", "measured": False, "reason": "=HYPERLINK(\"x\") cortex not seen", "quality": 0.1,
     "outer_width": None, "inner_width": None, "cortical_thickness": None, "cortical_index": None, "length": None,
     "unit": "mm", "line": None, "axis": None},
]


@pytest.fixture(scope="module")
def measured(world: World, world_db: str, world_dir) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Measurements on NORTH's screened image and on a new not-eligible image of the same patient."""
    from screening.storage import LocalObjectStore

    store = LocalObjectStore(world_dir / "objects")
    with session_scope(world_db) as session:
        good = session.get_one(Image, world.images["NORTH"])
        good.radiogrammetry_version, good.measured = "radiogrammetry-1.1", True
        good.cortical_index, good.cortical_thickness_mm = 0.4756, 1.95
        good.measurement = {"reason": "", "index_name": "BHI", "index_value": 0.4123, "pixel_spacing_mm": 0.1,
                            "bones": BONES}
        good.measurement_overlay_key = f"overlays/{good.batch_id}/{good.id}/measurement.png"
        store.put_bytes(good.measurement_overlay_key, OVERLAY, "image/png")
        young = Image(batch_id=good.batch_id, hospital_id=good.hospital_id, patient_id=good.patient_id,
                      filename="hand-young.png", age_months=30 * 12, sex="F", quality=Quality.ACCEPTED,
                      quality_reason="", eligible=False,
                      eligibility_reason="not eligible: age 30 years is below the screening population's minimum",
                      radiogrammetry_version="radiogrammetry-1.1", measured=False,
                      measurement={"reason": "=cmd| fewer than two bones", "index_name": "BHI", "index_value": None,
                                   "pixel_spacing_mm": None, "bones": []})
        session.add(young)
        session.flush()
        return {"good": good.id, "young": young.id}


def test_results_json_and_csv_carry_the_measurement(client, world: World, measured) -> None:
    auth = world.auth("staff_north")
    body = client.get(f"/api/v1/batches/{world.batches['NORTH']}/results", headers=auth).get_json()
    items = {item["filename"]: item for item in body["items"]}
    good, young, blurry = items["hand-1.png"], items["hand-young.png"], items["blurry.png"]
    assert (good["measured"], good["cortical_index"], good["cortical_thickness_mm"]) == (True, 0.4756, 1.95)
    assert good["measurement_reason"] is None and good["radiogrammetry_version"] == "radiogrammetry-1.1"
    assert good["measurement"] == {"index_name": "BHI", "index_value": 0.4123, "pixel_spacing_mm": 0.1,
                                   "bones": BONES}
    assert good["links"]["measurement_overlay"] == f"/api/v1/images/{measured['good']}/overlay/measurement"
    assert young["measured"] is False and young["class"] is None and young["eligible"] is False
    assert young["measurement_reason"] == "=cmd| fewer than two bones" and "measurement_overlay" not in young["links"]
    assert blurry["measured"] is None and blurry["measurement"] is None and blurry["radiogrammetry_version"] is None

    text = client.get(f"/api/v1/batches/{world.batches['NORTH']}/results?format=csv",
                      headers=auth).get_data(as_text=True)
    rows = {r["filename"]: r for r in csv.DictReader(io.StringIO(text.split("\n", 1)[1]))}
    assert {k: rows["hand-1.png"][k] for k in ("measured", "cortical_index", "cortical_thickness_mm",
                                               "measurement_reason", "radiogrammetry_version")} == {
        "measured": "yes", "cortical_index": "0.4756", "cortical_thickness_mm": "1.950", "measurement_reason": "",
        "radiogrammetry_version": "radiogrammetry-1.1"}
    assert rows["hand-young.png"]["measured"] == "no"
    assert rows["hand-young.png"]["measurement_reason"] == "'=cmd| fewer than two bones"  # injection-safe writer
    assert rows["blurry.png"]["measured"] == "" and rows["blurry.png"]["cortical_index"] == ""


def test_patient_api_carries_the_measurement_of_screened_and_not_eligible_images(client, world: World,
                                                                                  measured) -> None:
    body = client.get(f"/api/v1/patients/{world.patients['NORTH']}", headers=world.auth("staff_north")).get_json()
    (entry,) = body["history"]
    assert entry["cortical_index"] == 0.4756 and entry["measurement"]["bones"] == BONES
    assert entry["links"]["measurement_overlay"].endswith("/overlay/measurement")
    (outside,) = body["not_eligible"]
    assert outside["filename"] == "hand-young.png" and outside["measured"] is False
    assert outside["measurement_reason"] == "=cmd| fewer than two bones"


@pytest.mark.parametrize("who, status", [("staff_north", 200), ("official_north", 200), ("official_coast", 200),
                                         ("admin", 200), ("staff_south", 404), ("official_highlands", 404)])
def test_measurement_overlay_has_the_overlays_access_rules(client, world: World, world_db: str, measured,
                                                           who: str, status: int) -> None:
    response = client.get(f"/api/v1/images/{measured['good']}/overlay/measurement", headers=world.auth(who))
    assert response.status_code == status
    if status == 200:
        assert response.data == OVERLAY and response.mimetype == "image/png"
        assert response.headers["Content-Security-Policy"].startswith("sandbox")
        with session_scope(world_db) as session:
            audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "overlay.download",
                                                               AuditEvent.target_id == str(measured["good"])))
            assert audited.first() is not None


def test_an_unmeasured_image_has_no_measurement_overlay(client, world: World, measured) -> None:
    response = client.get(f"/api/v1/images/{measured['young']}/overlay/measurement",
                          headers=world.auth("staff_north"))
    assert response.status_code == 404 and "not measured" in response.get_json()["detail"]


def test_batch_and_patient_pages_show_the_values_and_the_overlay(client, world: World, measured) -> None:
    login(client, world.emails["staff_north"])
    batch = client.get(f"/batches/{world.batches['NORTH']}").get_data(as_text=True)
    overlay_url = f"/api/v1/images/{measured['good']}/overlay/measurement"
    assert 'data-cortical-index="0.4756"' in batch and "CI 47.6 %" in batch and "T 1.95 mm" in batch
    assert f'href="{overlay_url}"' in batch and "not measured" in batch
    assert "Shown without a category" in batch
    patient = client.get(f"/patients/{world.patients['NORTH']}").get_data(as_text=True)
    assert "data-measured-bone" in patient and f'src="{overlay_url}"' in patient
    assert patient.count("data-measured-bone") == 1  # once, in the page; never inside <title>
    title = patient.split("<title>", 1)[1].split("</title>", 1)[0]
    assert title.startswith("Patient ") and "<" not in title
    for expected in ("Cortical index 47.6 %", "T 1.95 mm", "BHI 0.41", "8.40 mm", "4.20 mm", "62.0 mm",
                     "not measured: =HYPERLINK(&#34;x&#34;) cortex not seen", "Not eligible: the measurement"):
        assert expected in patient, expected
