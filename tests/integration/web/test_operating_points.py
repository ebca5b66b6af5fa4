"""Operating points in the admin pages (issue 15, item 5), on PostgreSQL.

NORTH screened 60 people ten days ago, everyone referred at P(osteoporosis) >= 0.30
(P = 0.30 + n/200), and 40 of them had a DXA: every other one osteoporosis. The page shows
the referrals a month each threshold would make and, on those 40 cases, sensitivity,
specificity and PPV with intervals (and nothing below 0.30, where nobody was examined);
a change needs a reason and is kept with who and when; officials cannot make one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from screening.config import load_settings
from screening.db.models import AuditEvent, OperatingPoint, Referral, User
from screening.db.session import session_scope
from screening.followup.dxa import DxaResult
from screening.followup.operating_points import evidence
from screening.followup.referrals import record_dxa
from tests.factories import add_referred_batch
from tests.integration.web.world import MODEL_ID, World, csrf_token, login

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def examined(world: World, world_db: str) -> None:
    settings = load_settings({"OSTEO_DATABASE_URL": world_db})
    when = datetime.now(UTC) - timedelta(days=10)
    with session_scope(world_db) as session:
        batch = add_referred_batch(session, settings, "NORTH", 60, when, MODEL_ID)
        nurse = session.scalar(select(User).where(User.email == world.emails["staff_north"]))
        for referral in session.scalars(select(Referral).where(Referral.batch_id == batch.id)
                                        .order_by(Referral.p_osteoporosis)).all()[:40]:
            n = round((referral.p_osteoporosis - 0.30) * 200)
            record_dxa(session, referral, DxaResult(when.date() + timedelta(days=7), "Lunar",
                                                    -3.0 if n % 2 == 0 else -1.5, None, None), nurse)


def test_the_evidence_behind_each_threshold(world: World, world_db: str, examined) -> None:
    with session_scope(world_db) as session:
        found = evidence(session, "North")
    assert (found.screened, found.confirmed, found.confirmed_positive, found.lowest_referred_at) == (60, 40, 20, 0.3)
    rows = {c.threshold: c for c in found.candidates}
    assert rows[0.5].per_month == pytest.approx(20 * 30 / 90)  # n >= 40
    assert rows[0.4].sensitivity == 0.5 and rows[0.4].specificity == 0.5 and rows[0.4].ppv == 0.5
    assert rows[0.3].sensitivity == 1.0 and rows[0.3].specificity == 0.0
    low, high = rows[0.4].sensitivity_ci
    assert low < 0.5 < high
    assert rows[0.2].known is False and rows[0.2].sensitivity is None  # nobody examined below 0.30
    assert rows[0.2].per_month == pytest.approx(60 * 30 / 90)
    assert found.per_month(0.35, 0.5) == pytest.approx(30 * 30 / 90)  # 0.35 <= P < 0.5: n = 10 .. 39


def test_an_admin_sets_a_districts_operating_point_with_a_reason(client, world: World, world_db: str,
                                                                 examined) -> None:
    login(client, world.emails["admin"])
    page = client.get("/admin/operating-points?district=North").get_data(as_text=True)
    assert 'data-threshold="0.40"' in page and "50.0 %" in page and "not known" in page
    token = csrf_token(client, "/admin/operating-points")
    refused = client.post("/admin/operating-points", follow_redirects=True, data={
        "csrf_token": token, "district": "North", "refer_threshold": "0.4", "capacity_threshold": "0.5",
        "reason": "try"})
    assert "below the referral one" in refused.get_data(as_text=True)
    unexplained = client.post("/admin/operating-points", follow_redirects=True, data={
        "csrf_token": token, "district": "North", "refer_threshold": "0.45", "reason": " "})
    assert "say why" in unexplained.get_data(as_text=True)
    done = client.post("/admin/operating-points", follow_redirects=True, data={
        "csrf_token": token, "district": "North", "refer_threshold": "0,45", "capacity_threshold": "0.35",
        "reason": "40 DXA slots a month"})
    text = done.get_data(as_text=True)
    assert "refer from P(osteoporosis) 0.45, DXA if capacity allows from 0.35" in text
    assert "40 DXA slots a month" in text and "in force" in text
    now = re.search(r"Now: <strong>([\d.]+)</strong> referrals a month, and <strong>([\d.]+)</strong>", text)
    assert now and 9.5 <= float(now[1]) <= 10.0 and 6.5 <= float(now[2]) <= 7.0  # ~30 and ~20 in 90 days
    with session_scope(world_db) as session:
        points = session.scalars(select(OperatingPoint).where(OperatingPoint.district == "North")).all()
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "operating_point.set"))
    assert [(p.refer_threshold, p.capacity_threshold, p.active) for p in points] == [(0.45, 0.35, True)]
    assert event.details["reason"] == "40 DXA slots a month" and event.target_id == "North"
    login(client, world.emails["official_coast"])
    assert client.get("/admin/operating-points").status_code == 403
    assert client.post("/admin/operating-points", data={"csrf_token": csrf_token(client, "/overview"),
                                                        "district": "North", "refer_threshold": "0.2",
                                                        "reason": "x"}).status_code == 403
