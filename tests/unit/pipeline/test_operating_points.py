"""A district's operating point decides referrals at screening, and every result keeps the one it was judged by.

The embedded pipeline (SQLite) with the tiny model, whose P(osteoporosis) sits near 1/3:
with DH1's district set to refer from 0.9 and "DXA if capacity allows" from 0.1, nobody is
referred and everyone is in the capacity tier; after the district moves to refer from 0.1,
the next batch refers everyone while the first batch's results stay as they were judged.
"""

from __future__ import annotations

from sqlalchemy import select

from screening.accounts import add_user
from screening.db import Batch, BatchStatus, Prediction, session_scope
from screening.db.models import AuditEvent, Referral, Role
from screening.followup.operating_points import set_point
from tests.factories import write_phantom_archive
from tests.unit.pipeline.conftest import screen


def test_the_operating_point_in_force_when_a_batch_starts_judges_all_of_it(embedded, tmp_path):
    with session_scope(embedded.database_url) as session:
        admin = add_user(session, "admin@example.org", Role.ADMIN)
        first_point = set_point(session, "North", 0.9, 0.1, admin, "DXA capacity is short this quarter").id
    first = screen(embedded, write_phantom_archive(tmp_path / "a.zip", 3, seed=41))
    assert first.status is BatchStatus.COMPLETE, first.error
    assert (first.refer_threshold, first.capacity_threshold, first.operating_point_id) == (0.9, 0.1, first_point)
    with session_scope(embedded.database_url) as session:
        admin = session.merge(admin)
        second_point = set_point(session, "North", 0.1, None, admin, "capacity doubled").id
    second = screen(embedded, write_phantom_archive(tmp_path / "b.zip", 3, seed=42))
    with session_scope(embedded.database_url) as session:
        judged = {batch.id: [(p.tier, p.referred, p.refer_threshold, p.capacity_threshold, p.operating_point_id)
                             for p in session.scalars(select(Prediction).where(Prediction.batch_id == batch.id))]
                  for batch in (first, second)}
        referrals = {batch.id: session.scalars(select(Referral.refer_threshold)
                                               .where(Referral.batch_id == batch.id)).all() for batch in (first, second)}
        audited = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "operating_point.set")).all()
        stored = session.get_one(Batch, first.id)
    assert judged[first.id] == [("capacity", False, 0.9, 0.1, first_point)] * 3
    assert judged[second.id] == [("refer", True, 0.1, None, second_point)] * 3
    assert referrals[first.id] == [] and set(referrals[second.id]) == {0.1}  # one per patient
    assert stored.refer_threshold == 0.9  # the first batch keeps what it was judged by
    assert [d["reason"] for d in audited] == ["DXA capacity is short this quarter", "capacity doubled"]
    assert audited[1]["previous"] == first_point
