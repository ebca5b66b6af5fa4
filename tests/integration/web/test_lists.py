"""Every list pages, sorts and filters, and says how many rows it has (issue 15, item 3): none is cut silently.

On PostgreSQL through the web app: patients, a batch's results, batches, the admin's
hospitals, users, tokens and audit trail, in the pages and the API.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from screening.accounts import add_user, create_token
from screening.config import load_settings
from screening.db.models import Batch, BatchStatus, Role
from screening.db.session import session_scope
from tests.factories import add_referred_batch
from tests.integration.web.world import DAY, MODEL_ID, World, login

pytestmark = pytest.mark.integration
EXTRA = 60


@pytest.fixture(scope="module")
def crowded(world: World, world_db: str) -> str:
    """60 more NORTH patients in one batch, 30 more NORTH batches, 55 more users; returns the big batch's id."""
    settings = load_settings({"OSTEO_DATABASE_URL": world_db})
    created = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(days=2, hours=10)
    with session_scope(world_db) as session:
        big = add_referred_batch(session, settings, "NORTH", EXTRA, created, MODEL_ID)
        for n in range(30):
            session.add(Batch(hospital_id=big.hospital_id, original_filename=f"day-{n:02d}.zip",
                              status=BatchStatus.FAILED if n % 10 == 0 else BatchStatus.COMPLETE,
                              created_at=created + timedelta(days=1 + n), files_total=n))
        for n in range(55):
            user = add_user(session, f"reader{n:02d}@example.org", Role.OFFICIAL, region="Coast")
            if n < 3:
                create_token(session, user, f"reader-token-{n}")
        return big.id


def _rows(html: str, marker: str) -> int:
    return html.count(marker)


def test_the_51st_patient_is_on_page_2(client, world: World, crowded: str) -> None:
    login(client, world.emails["staff_north"])
    first = client.get("/patients").get_data(as_text=True)
    assert "(61)" in first and "1–50 of 61 patients" in first and _rows(first, "data-patient-row") == 50
    second = client.get("/patients?page=2").get_data(as_text=True)
    assert "51–61 of 61 patients" in second and _rows(second, "data-patient-row") == 11
    names = set(re.findall(r'data-patient="(P[0-9A-Z]+)"', first)) | set(re.findall(r'data-patient="(P[0-9A-Z]+)"',
                                                                                        second))
    assert len(names) == 61
    by_risk = client.get("/patients?sort=-risk&per_page=25").get_data(as_text=True)
    assert _rows(by_risk, "data-patient-row") == 25 and by_risk.index(world.patients["NORTH"]) < by_risk.index(
        "MRN-00059")
    assert "(20)" in client.get("/patients?sex=M").get_data(as_text=True)
    assert client.get("/patients?sort=height").status_code == 400

    api = client.get("/api/v1/patients?limit=50", headers=world.auth("staff_north")).json
    assert api["total"] == 61 and len(api["items"]) == 50 and api["next_offset"] == 50
    rest = client.get("/api/v1/patients?limit=50&offset=50", headers=world.auth("staff_north")).json
    assert len(rest["items"]) == 11 and rest["next_offset"] is None
    assert {i["pseudonym"] for i in api["items"] + rest["items"]} == names
    ids = {i["hospital_patient_id"] for i in api["items"] + rest["items"]}
    assert "MRN-00000" in ids
    official = client.get("/api/v1/patients?limit=500&class=osteoporosis",
                          headers=world.auth("official_coast")).json
    assert official["total"] == 22 and {i["hospital_patient_id"] for i in official["items"]} == {None}


def test_a_batchs_results_page_sort_and_filter(client, world: World, crowded: str) -> None:
    login(client, world.emails["staff_north"])
    page = client.get(f"/batches/{crowded}?per_page=25").get_data(as_text=True)
    assert "1–25 of 60 files" in page
    last = client.get(f"/batches/{crowded}?per_page=25&page=3").get_data(as_text=True)
    assert "51–60 of 60 files" in last and "ward-059.png" in last and "ward-000.png" not in last.split('id="results"')[1]
    risky = client.get(f"/batches/{crowded}?class=osteoporosis&sort=-risk").get_data(as_text=True)
    assert "1–20 of 20 files" in risky
    auth = world.auth("staff_north")
    body = client.get(f"/api/v1/batches/{crowded}/results?sort=-risk&limit=5", headers=auth).json
    assert body["total"] == 60 and [r["filename"] for r in body["items"]][:2] == ["ward-059.png", "ward-058.png"]
    named = client.get(f"/api/v1/batches/{crowded}/results?q=ward-00", headers=auth).json
    assert named["total"] == 10
    assert client.get(f"/api/v1/batches/{crowded}/results?only=sideways", headers=auth).status_code == 400


def test_batches_page_sort_and_filter(client, world: World, crowded: str) -> None:
    login(client, world.emails["staff_north"])
    first = client.get("/batches").get_data(as_text=True)
    assert "1–25 of 32 batches" in first  # the world's, the big one, and 30 more
    second = client.get("/batches?page=2").get_data(as_text=True)
    assert "26–32 of 32 batches" in second and "NORTH.zip" in second  # the oldest last
    failed = client.get("/batches?status=failed").get_data(as_text=True)
    assert "1–3 of 3 batches" in failed
    assert "1–1 of 1 batches" in client.get("/batches?q=day-07").get_data(as_text=True)
    api = client.get("/api/v1/batches?sort=files&limit=3&hospital=NORTH", headers=world.auth("admin")).json
    assert api["total"] == 32 and [b["counts"]["files_total"] for b in api["items"]] == [0, 0, 1]
    login(client, world.emails["official_coast"])
    hospital = client.get("/hospitals/NORTH").get_data(as_text=True)
    assert "(10 of 32)" in hospital and "all 32 batches" in hospital


def test_admin_lists_page_sort_and_filter(client, world: World, crowded: str) -> None:
    login(client, world.emails["admin"])
    users = client.get("/admin/users").get_data(as_text=True)
    total = 6 + 55
    assert f"1–50 of {total} users" in users
    assert f"51–{total} of {total} users" in client.get("/admin/users?page=2").get_data(as_text=True)
    assert "1–2 of 2 users" in client.get("/admin/users?role=staff").get_data(as_text=True)
    assert "1–1 of 1 users" in client.get("/admin/users?q=reader07").get_data(as_text=True)
    tokens = client.get("/admin/tokens?q=reader-token").get_data(as_text=True)
    assert "1–3 of 3 tokens" in tokens
    hospitals = client.get("/admin/hospitals?sort=-code").get_data(as_text=True)
    assert "1–3 of 3 hospitals" in hospitals and hospitals.index(">SOUTH<") < hospitals.index(">HILL<")
    audit = client.get("/admin/audit?action=login.").get_data(as_text=True)
    assert "login.success" in audit and "events" in audit
    hub = client.get("/admin").get_data(as_text=True)
    assert f"<strong>{total}</strong>" in hub and MODEL_ID in hub
    assert client.get("/admin/users?sort=shoe").status_code == 400
