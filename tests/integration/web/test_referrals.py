"""The referral worklist and its follow-up (issue 15, item 2), on PostgreSQL through the web app.

The world gets a second NORTH batch of 60 referred patients (with hospital ids), whose
referrals are opened the way finalize opens them. Then: paging (the 51st referral is on
page 2), sorting, filters, the CSV, state changes and DXA results by form, API and CSV
import, each with who and when, audited; officials read but never write, other
hospitals see nothing.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from screening.config import load_settings
from screening.db.models import AuditEvent, FollowUpState, Patient, Referral, ReferralEvent, User
from screening.db.session import session_scope
from screening.followup.referrals import change_state, open_referrals
from screening.pseudonyms import pseudonymise
from tests.factories import add_referred_batch
from tests.integration.web.world import DAY, MODEL_ID, World, csrf_token, login

pytestmark = pytest.mark.integration
EXTRA = 60
LATER = DAY + timedelta(days=3)


def mrn(n: int) -> str:
    return f"MRN-{n:05d}"


@pytest.fixture(scope="module")
def referred(world: World, world_db: str) -> None:
    """60 more referred NORTH patients (with hospital ids) in a batch three days later, and every referral opened."""
    settings = load_settings({"OSTEO_DATABASE_URL": world_db})
    created = datetime.combine(LATER, datetime.min.time(), tzinfo=UTC) + timedelta(hours=10)
    with session_scope(world_db) as session:
        opened = sum(open_referrals(session, world.batches[code]) for code in ("NORTH", "SOUTH", "HILL"))
        batch = add_referred_batch(session, settings, "NORTH", EXTRA, created, MODEL_ID)
        assert opened == 3 and session.scalar(select(func.count()).select_from(Referral)) == 3 + EXTRA
        assert open_referrals(session, batch.id) == 0  # a redelivered finalize opens nothing twice


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("\n".join(text.splitlines()[1:]))))


def test_the_51st_referral_is_on_page_2_and_sorting_and_filters_work(client, world: World, referred) -> None:
    login(client, world.emails["staff_north"])
    first = client.get("/referrals").get_data(as_text=True)
    assert "(61)" in first and "1–50 of 61 referrals" in first and first.count("data-referral=") == 50
    second = client.get("/referrals?page=2").get_data(as_text=True)
    assert "51–61 of 61 referrals" in second and second.count("data-referral=") == 11
    ids_1 = set(re.findall(r'data-referral="(\d+)"', first))
    ids_2 = set(re.findall(r'data-referral="(\d+)"', second))
    assert len(ids_1 | ids_2) == 61 and not ids_1 & ids_2
    assert mrn(0) in first + second and world.patients["SOUTH"] not in first + second
    by_risk = client.get("/referrals?sort=-risk&per_page=25").get_data(as_text=True)
    assert by_risk.count("data-referral=") == 25 and by_risk.index(mrn(59)) < by_risk.index(mrn(40))
    men = client.get("/referrals?sex=M&state=all").get_data(as_text=True)
    assert "(20)" in men
    osteoporosis = client.get("/referrals?class=osteoporosis").get_data(as_text=True)
    assert "(21)" in osteoporosis  # 20 of the new patients (p >= 0.5) and the world's NORTH patient
    assert client.get("/referrals?q=ward-007").get_data(as_text=True).count("data-referral=") == 1
    assert client.get("/referrals?sort=shoe-size").status_code == 400
    text = client.get("/referrals.csv?sort=-risk").get_data(as_text=True)
    rows = _rows(text)
    assert len(rows) == 61 and "DXA" in text.splitlines()[0]
    assert rows[0]["pseudonym"] == world.patients["NORTH"] and rows[0]["hospital_patient_id"] == ""  # p 0.7, no id
    assert rows[1]["hospital_patient_id"] == mrn(59)
    assert {row["state"] for row in rows} == {"to_contact"}


def test_api_lists_referrals_with_totals_pages_and_sorting(client, world: World, referred) -> None:
    auth = world.auth("staff_north")
    page = client.get("/api/v1/referrals?limit=50&sort=risk", headers=auth).json
    assert page["total"] == 61 and len(page["items"]) == 50 and page["next_offset"] == 50
    assert page["items"][0]["p_osteoporosis"] <= page["items"][1]["p_osteoporosis"]
    rest = client.get("/api/v1/referrals?limit=50&offset=50&sort=risk", headers=auth).json
    assert len(rest["items"]) == 11 and rest["next_offset"] is None
    item = rest["items"][-2]  # the last is the world's NORTH patient (p 0.7)
    assert item["hospital_patient_id"] == mrn(59) and item["state"] == "to_contact" and item["dxa"] is None
    assert item["model_version"] == MODEL_ID and page["model_versions"] == [MODEL_ID]
    official = client.get("/api/v1/referrals?limit=500", headers=world.auth("official_coast")).json
    assert official["total"] == 62 and all(i["hospital_patient_id"] is None for i in official["items"])
    south = client.get("/api/v1/referrals", headers=world.auth("staff_south")).json
    assert south["total"] == 1 and south["items"][0]["hospital"]["code"] == "SOUTH"


def _referral_of(world_db: str, identifier: str) -> Referral:
    settings = load_settings({"OSTEO_DATABASE_URL": world_db})
    with session_scope(world_db) as session:
        return session.scalar(select(Referral).join(Patient, Patient.id == Referral.patient_id).where(
            Patient.pseudonym == pseudonymise(settings.pseudonym_secret, "NORTH", identifier)))


def test_a_referral_is_worked_to_dxa_done_with_who_and_when(client, world: World, world_db: str, referred) -> None:
    referral = _referral_of(world_db, mrn(10))
    login(client, world.emails["staff_north"])
    token = csrf_token(client, "/referrals")
    contacted = client.post(f"/referrals/{referral.id}/state",
                            data={"state": "contacted", "on": LATER.isoformat(), "note": "phoned",
                                  "csrf_token": token, "back": "/referrals?page=2"})
    assert contacted.status_code == 302 and contacted.headers["Location"].endswith("/referrals?page=2")
    booked = client.post(f"/api/v1/referrals/{referral.id}/state", json={"state": "dxa_booked"},
                         headers=world.auth("staff_north"))
    assert booked.status_code == 200 and booked.json["state"] == "dxa_booked"
    assert booked.json["state_changed_by"] == world.emails["staff_north"]
    refused = client.post(f"/api/v1/referrals/{referral.id}/state", json={"state": "dxa_done"},
                          headers=world.auth("staff_north"))
    assert refused.status_code == 422 and "T-scores" in refused.json["detail"]
    bad = client.post(f"/referrals/{referral.id}/dxa", data={"dxa_date": date.today().isoformat(),
                                                             "t_total_hip": "-12", "csrf_token": token})
    assert bad.status_code == 302
    assert "between -8.0 and 6.0" in client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    done = client.post(f"/referrals/{referral.id}/dxa", data={
        "dxa_date": (LATER + timedelta(days=9)).isoformat(), "device": "Hologic Horizon A",
        "t_femoral_neck": "-2,7", "t_total_hip": "-2.1", "t_lumbar_spine": "", "csrf_token": token})
    assert done.status_code == 302
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "DXA done" in page and "Osteoporosis (-2.7)" in page and "Hologic Horizon A" in page
    assert "phoned" in page and page.count("<tr><td class=\"nowrap\">") == 4  # opened, contacted, booked, DXA
    body = client.get(f"/api/v1/referrals/{referral.id}", headers=world.auth("official_coast")).json
    assert body["dxa"]["t_lowest"] == -2.7 and body["dxa"]["who_class"] == "osteoporosis"
    assert [e["kind"] for e in body["history"]] == ["opened", "state", "state", "dxa"]
    assert body["history"][1]["on"] == LATER.isoformat() and body["history"][1]["by"] == world.emails["staff_north"]
    again = client.post(f"/api/v1/referrals/{referral.id}/state", json={"state": "contacted"},
                        headers=world.auth("staff_north"))
    assert again.status_code == 422 and "correct the result" in again.json["detail"]
    with session_scope(world_db) as session:
        audited = session.scalars(select(AuditEvent.action).where(
            AuditEvent.target_type == "referral", AuditEvent.target_id == str(referral.id))).all()
        events = session.scalar(select(func.count()).select_from(ReferralEvent).where(
            ReferralEvent.referral_id == referral.id))
        stored = session.get_one(Referral, referral.id)
    assert sorted(audited) == ["referral.dxa", "referral.state", "referral.state"] and events == 4
    assert stored.state is FollowUpState.DXA_DONE and stored.state_on == LATER + timedelta(days=9)
    assert (stored.t_femoral_neck, stored.t_total_hip, stored.t_lumbar_spine) == (-2.7, -2.1, None)


def test_officials_read_but_never_write_and_other_hospitals_see_nothing(client, world: World, world_db: str,
                                                                        referred) -> None:
    referral = _referral_of(world_db, mrn(11))
    official = world.auth("official_coast")
    assert client.get(f"/api/v1/referrals/{referral.id}", headers=official).status_code == 200
    assert client.post(f"/api/v1/referrals/{referral.id}/state", json={"state": "contacted"},
                       headers=official).status_code == 403
    assert client.put(f"/api/v1/referrals/{referral.id}/dxa", json={"dxa_date": "2024-03-10", "t_total_hip": -1},
                      headers=official).status_code == 403
    south = world.auth("staff_south")
    assert client.get(f"/api/v1/referrals/{referral.id}", headers=south).status_code == 404
    assert client.post(f"/api/v1/referrals/{referral.id}/state", json={"state": "contacted"},
                       headers=south).status_code == 404
    assert client.post("/api/v1/referrals/dxa-import", data=b"referral_id,dxa_date,t_total_hip\n1,2024-03-10,-1\n",
                       content_type="text/csv", headers=official).status_code == 403
    login(client, world.emails["official_coast"])
    page = client.get("/referrals?state=all").get_data(as_text=True)
    assert "(62)" in page and "Save</button>" not in page and mrn(11) not in page


def test_dxa_results_import_from_csv_all_or_nothing(client, world: World, world_db: str, referred) -> None:
    auth = world.auth("staff_north")
    good = (f"patient,dxa_date,device,t_femoral_neck,t_total_hip,t_lumbar_spine,note\n"
            f"{mrn(20)},{(LATER + timedelta(days=5)).isoformat()},Lunar iDXA,-1.2,-0.8,,from the DXA unit\n"
            f" {mrn(21)} ,{(LATER + timedelta(days=6)).isoformat()},Lunar iDXA,,,-3.1,\n")
    broken = good + (f"{mrn(22)},{(LATER - timedelta(days=30)).isoformat()},x,-1,,,\n"
                     f"MRN-99999,{LATER.isoformat()},x,-1,,,\n"
                     f"{mrn(23)},{LATER.isoformat()},x,,,,\n")
    refused = client.post("/api/v1/referrals/dxa-import", data=broken.encode(), content_type="text/csv",
                          headers=auth)
    assert refused.status_code == 422
    assert [p["line"] for p in refused.json["problems"]] == [4, 5, 6]
    assert "before the patient's first referral" in refused.json["problems"][0]["problem"]
    assert "MRN-99999" not in refused.get_data(as_text=True)  # an id that matched nothing is not echoed
    assert client.get("/api/v1/referrals?dxa=with", headers=auth).json["total"] == 1  # only test 3's, nothing new
    imported = client.post("/api/v1/referrals/dxa-import", data=good.encode(), content_type="text/csv",
                           headers=auth)
    assert imported.status_code == 200 and (imported.json["recorded"], imported.json["unchanged"]) == (2, 0)
    again = client.post("/api/v1/referrals/dxa-import", data=good.encode(), content_type="text/csv", headers=auth)
    assert (again.json["recorded"], again.json["unchanged"]) == (0, 2)
    done = {i["hospital_patient_id"]: i for i in client.get(
        "/api/v1/referrals?dxa=with&limit=500", headers=auth).json["items"]}
    assert done[mrn(20)]["dxa"]["who_class"] == "osteopenia" and done[mrn(21)]["dxa"]["t_lowest"] == -3.1
    assert done[mrn(20)]["state"] == "dxa_done"
    login(client, world.emails["staff_north"])
    token = csrf_token(client, "/referrals/import")
    page = client.post("/referrals/import", data={"file": (io.BytesIO(broken.encode()), "dxa.csv"),
                                                   "csrf_token": token}, content_type="multipart/form-data")
    assert page.status_code == 422 and "Nothing was recorded: 3 problems" in page.get_data(as_text=True)


def test_one_open_referral_per_patient_and_a_new_one_after_it_closed(world: World, world_db: str, referred) -> None:
    settings = load_settings({"OSTEO_DATABASE_URL": world_db})
    with session_scope(world_db) as session:
        pseudonyms = [pseudonymise(settings.pseudonym_secret, "NORTH", mrn(n)) for n in (30, 31)]
        before = {p: session.scalar(select(Referral).join(Patient).where(Patient.pseudonym == p)) for p in pseudonyms}
        staff = session.scalar(select(User).where(User.email == world.emails["staff_north"]))
        change_state(session, before[pseudonyms[1]], FollowUpState.DECLINED, staff, on=LATER)
        rescreen = add_referred_batch(session, settings, "NORTH", 32, datetime.combine(
            LATER + timedelta(days=20), datetime.min.time(), tzinfo=UTC), MODEL_ID)
        batches = {p: session.scalars(select(Referral.batch_id).join(Patient).where(Patient.pseudonym == p)
                                      .order_by(Referral.id)).all() for p in pseudonyms}
        first = {p: referral.batch_id for p, referral in before.items()}
        rescreened = rescreen.id
        session.rollback()  # leave the module's world as it was
    assert batches[pseudonyms[0]] == [first[pseudonyms[0]]]  # still open: no second referral
    assert batches[pseudonyms[1]] == [first[pseudonyms[1]], rescreened]  # declined, then referred again
