"""What a finished batch adds to the program: its referrals, and its people in the figures."""

from __future__ import annotations

from sqlalchemy.orm import Session

from screening.db.models import Batch
from screening.followup.referrals import open_referrals
from screening.followup.rollups import record_screenings, refresh_people, refresh_referrals
from screening.rollups import summary_day


def follow_up_batch(session: Session, batch_id: str) -> int:
    """Open the batch's referrals and count its people; returns how many referrals opened. Idempotent."""
    batch = session.get_one(Batch, batch_id)
    opened = open_referrals(session, batch_id)
    refresh_people(session, record_screenings(session, batch_id))
    refresh_referrals(session, {(batch.hospital_id, summary_day(batch.created_at))})
    return opened
