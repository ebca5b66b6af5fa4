"""Figures officials need, by people (issue 15, item 4), on PostgreSQL through the web app and the API.

NORTH screens 10 people on Monday 1 April (all referred), 15 on the next Tuesday (10 of
them again: no new referral while theirs is open), and one of the first ten turns out
to have been screened in March (a batch that arrives late). Each person counts once in a
period; a referral worked through to "DXA done" with a T-score changes the official's PPV;
the figures come by place (with drill-down), sex, age band and week, as page, CSV and API.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from screening.config import load_settings
from screening.db.models import Patient, Referral
from screening.db.session import session_scope
from screening.pseudonyms import pseudonymise
from tests.factories import add_referred_batch
from tests.integration.web.world import MODEL_ID, World, login

pytestmark = pytest.mark.integration
MONDAY = date(2024, 4, 1)
TUESDAY = MONDAY + timedelta(days=8)
LATE = MONDAY - timedelta(days=3)
APRIL = f"from={MONDAY.isoformat()}&to={(MONDAY + timedelta(days=29)).isoformat()}"


def _at(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)


@pytest.fixture(scope="module")
def screened(world: World, world_db: str) -> None:
    settings = load_settings({"OSTEO_DATABASE_URL": world_db})
    with session_scope(world_db) as session:
        add_referred_batch(session, settings, "NORTH", 10, _at(MONDAY), MODEL_ID)
        add_referred_batch(session, settings, "NORTH", 15, _at(TUESDAY), MODEL_ID)
        add_referred_batch(session, settings, "NORTH", 1, _at(LATE), MODEL_ID)  # MRN-00000, uploaded last


def _summary(client, world: World, who: str, query: str) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/summary?{query}", headers=world.auth(who))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def test_each_person_counts_once_in_a_period(client, world: World, screened) -> None:
    def people(start: date, end: date) -> int:
        return _summary(client, world, "official_north", f"from={start}&to={end}")["people_screened"]

    assert people(MONDAY, MONDAY) == 10
    assert people(TUESDAY, TUESDAY) == 15
    assert people(MONDAY, TUESDAY) == 15  # 10 + 5 new; the 10 screened again count once
    assert people(LATE, TUESDAY) == 15  # MRN-00000's late March screening is the same person
    assert people(LATE, MONDAY) == 10
    assert people(LATE, LATE) == 1
    body = _summary(client, world, "official_north", APRIL)
    weeks = {w["week"]: w for w in body["weekly"]}
    assert weeks[MONDAY.isoformat()]["people_screened"] == 10
    assert weeks[(TUESDAY - timedelta(days=1)).isoformat()]["people_screened"] == 15  # each once a week
    assert body["people_referred"] == 15 and body["dxa_done"] == 0  # 10 on Monday, 5 new on Tuesday
    assert body["ppv_osteoporosis"] is None and body["ppv_low_bone_mass"] is None
    assert body["scope"] == {"level": "hospital", "district": None, "region": None, "hospitals": ["NORTH"]}
    assert body["period"] == {"from": MONDAY.isoformat(), "to": (MONDAY + timedelta(days=29)).isoformat()}


def test_a_referral_worked_to_dxa_done_changes_the_officials_ppv(client, world: World, world_db: str,
                                                                 screened) -> None:
    settings = load_settings({"OSTEO_DATABASE_URL": world_db})
    with session_scope(world_db) as session:
        ids = {n: session.scalar(select(Referral.id).join(Patient, Patient.id == Referral.patient_id).where(
            Patient.pseudonym == pseudonymise(settings.pseudonym_secret, "NORTH", f"MRN-{n:05d}"),
            Referral.referred_on == MONDAY)) for n in (3, 4, 6)}
    before = _summary(client, world, "official_coast", APRIL)
    staff = world.auth("staff_north")
    for n, state in ((3, "contacted"), (4, "dxa_booked"), (6, "declined")):
        assert client.post(f"/api/v1/referrals/{ids[n]}/state", json={"state": state, "on": MONDAY.isoformat()},
                           headers=staff).status_code == 200
    for n, t, wait in ((3, -2.7, 6), (4, -1.5, 10)):
        done = client.put(f"/api/v1/referrals/{ids[n]}/dxa", json={
            "dxa_date": (MONDAY + timedelta(days=wait)).isoformat(), "t_femoral_neck": t}, headers=staff)
        assert done.status_code == 200, done.get_data(as_text=True)
    after = _summary(client, world, "official_coast", APRIL)
    assert (before["dxa_done"], after["dxa_done"]) == (0, 2)
    assert (after["ppv_osteoporosis"], after["ppv_low_bone_mass"]) == (0.5, 1.0)
    north = next(g for g in after["groups"] if g["key"] == "NORTH")
    assert north["people_screened"] == 15 and north["people_referred"] == 15 and north["dxa_done"] == 2
    assert north["median_days_to_dxa"] == 8.0 and north["declined"] == 1 and north["dxa_uptake"] == round(2 / 15, 4)
    low, high = north["ppv_osteoporosis_ci95"]
    assert 0 < low < 0.5 < high < 1
    south = next(g for g in after["groups"] if g["key"] == "SOUTH")
    assert south["people_screened"] == 0 and south["dxa_done"] == 0
    sexes = {g["key"]: g for g in after["by_sex"]}  # MRN-00003 is M (n % 3 == 0), MRN-00004 F
    assert sexes["m"]["dxa_done"] == 1 and sexes["m"]["ppv_osteoporosis"] == 1.0
    assert sexes["f"]["dxa_done"] == 1 and sexes["f"]["ppv_osteoporosis"] == 0.0
    assert sexes["f"]["people_screened"] + sexes["m"]["people_screened"] == 15
    bands = {g["key"]: g for g in after["by_age_band"]}  # ages 52 + n: MRN-00000..7 in their 50s, 8..14 in their 60s
    assert (bands["50"]["people_screened"], bands["60"]["people_screened"]) == (8, 7)
    assert bands["50"]["dxa_done"] == 2 and bands["60"]["dxa_done"] == 0
    assert sum(g["people_screened"] for g in after["by_age_band"]) == 15
    region = _summary(client, world, "official_coast", f"{APRIL}&level=region")
    assert [(g["key"], g["dxa_done"], g["ppv_osteoporosis"]) for g in region["groups"]] == [("Coast", 2, 0.5)]
    highlands = _summary(client, world, "official_highlands", APRIL)
    assert highlands["dxa_done"] == 0 and highlands["scope"]["hospitals"] == ["HILL"]


def test_the_overview_drills_down_exports_and_names_people(client, world: World, screened) -> None:
    login(client, world.emails["official_coast"])
    regions = client.get(f"/overview?level=region&{APRIL}").get_data(as_text=True)
    assert 'data-drill="Coast"' in regions and "level=district" in regions and "region=Coast" in regions
    assert "People screened" in regions and "PPV, DXA T ≤ −2.5" in regions and "1 hospitals" not in regions
    districts = client.get(f"/overview?level=district&region=Coast&{APRIL}").get_data(as_text=True)
    assert 'data-drill="North"' in districts and "level=hospital" in districts and "district=North" in districts
    hospitals = client.get(f"/overview?level=hospital&district=North&{APRIL}").get_data(as_text=True)
    assert 'href="/hospitals/NORTH?' in hospitals and '<strong data-figure="people_screened">15</strong>' in hospitals
    assert "<details data-weekly>" in hospitals and "<svg" in hospitals
    drill = client.get(f"/hospitals/NORTH?{APRIL}").get_data(as_text=True)
    assert '<strong data-figure="people_screened">15</strong>' in drill and "Coast</a>" in drill
    for table, first in (("sex", "key"), ("age", "key"), ("weekly", "week"), ("places", "key")):
        text = client.get(f"/overview.csv?table={table}&{APRIL}").get_data(as_text=True)
        rows = list(csv.DictReader(io.StringIO("\n".join(text.splitlines()[1:]))))
        assert "DXA" in text.splitlines()[0] and "NORTH SOUTH" in text.splitlines()[0]
        assert rows and first in rows[0]
        if table == "places":
            north = next(r for r in rows if r["key"] == "NORTH")
            assert north["people_screened"] == "15" and north["people_referred"] == "15"
    assert client.get("/overview.csv?table=everything").status_code == 400
