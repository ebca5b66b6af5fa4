"""The scope matrix: every API endpoint refuses another hospital's data (and officials outside
their area), and allows the owner, the area's officials and admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from screening.db.models import AuditEvent
from screening.db.session import session_scope
from tests.integration.web.world import World

pytestmark = pytest.mark.integration

# Resources of hospital NORTH (district North, region Coast).
ENDPOINTS = {
    "batch": lambda w: f"/api/v1/batches/{w.batches['NORTH']}",
    "results": lambda w: f"/api/v1/batches/{w.batches['NORTH']}/results",
    "results_csv": lambda w: f"/api/v1/batches/{w.batches['NORTH']}/results?format=csv",
    "patient": lambda w: f"/api/v1/patients/{w.patients['NORTH']}",
    "report_pdf": lambda w: f"/api/v1/reports/{w.reports['NORTH']}.pdf",
    "report_html": lambda w: f"/api/v1/reports/{w.reports['NORTH']}.html",
    "overlay": lambda w: f"/api/v1/images/{w.images['NORTH']}/overlay/jet",
    "clahe": lambda w: f"/api/v1/images/{w.images['NORTH']}/overlay/clahe",
}
ALLOWED = ["staff_north", "official_north", "official_coast", "admin"]
REFUSED = ["staff_south", "official_highlands"]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", REFUSED)
def test_other_hospitals_and_areas_get_404(client, world: World, endpoint: str, who: str) -> None:
    response = client.get(ENDPOINTS[endpoint](world), headers=world.auth(who))
    assert response.status_code in (403, 404)
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", ALLOWED)
def test_owner_area_officials_and_admins_get_200(client, world: World, endpoint: str, who: str) -> None:
    response = client.get(ENDPOINTS[endpoint](world), headers=world.auth(who))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]


@pytest.mark.parametrize("who", REFUSED)
def test_summary_and_lists_leave_out_other_hospitals(client, world: World, who: str) -> None:
    summary = client.get("/api/v1/summary", headers=world.auth(who)).json
    assert "NORTH" not in {g["key"] for g in summary["groups"]}
    batches = client.get("/api/v1/batches?limit=500", headers=world.auth(who)).json
    assert world.batches["NORTH"] not in {b["id"] for b in batches["items"]}
    filtered = client.get("/api/v1/batches?hospital=NORTH", headers=world.auth(who))
    assert filtered.status_code == 404


def test_downloads_are_audited(client, world: World, world_db: str) -> None:
    response = client.get(ENDPOINTS["report_pdf"](world), headers=world.auth("official_coast"))
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    overlay = client.get(ENDPOINTS["overlay"](world), headers=world.auth("staff_north"))
    assert overlay.mimetype == "image/png" and overlay.data.endswith(b"jet")
    with session_scope(world_db) as session:
        actions = {(e.action, e.target_id) for e in session.scalars(select(AuditEvent))}
    assert ("report.download", str(world.reports["NORTH"])) in actions
    assert ("overlay.download", str(world.images["NORTH"])) in actions


def test_bad_download_requests_are_404(client, world: World) -> None:
    for path in (f"/api/v1/reports/{world.reports['NORTH']}.docx", "/api/v1/reports/999999.pdf",
                 f"/api/v1/images/{world.images['NORTH']}/overlay/rainbow", "/api/v1/images/abc/overlay/jet",
                 "/api/v1/patients/PNOSUCHPATIENT"):
        response = client.get(path, headers=world.auth("admin"))
        assert response.status_code == 404, path


def test_patient_history_with_reports_and_model(client, world: World) -> None:
    body = client.get(f"/api/v1/patients/{world.patients['SOUTH']}", headers=world.auth("staff_south")).json
    assert body["pseudonym"] == world.patients["SOUTH"] and body["hospital"]["code"] == "SOUTH"
    assert body["latest"]["class"] == "osteoporosis" and body["latest"]["referred"] is True
    assert len(body["history"]) == 1
    entry = body["history"][0]
    assert entry["probabilities"]["osteoporosis"] == 0.7 and entry["age_years"] == 62.0
    assert entry["links"]["report_pdf"] == f"/api/v1/reports/{world.reports['SOUTH']}.pdf"
    assert body["model_versions"] == ["mv-test-0001"] and "DXA" in body["disclaimer"]
