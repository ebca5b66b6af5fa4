"""The overview names the model versions behind its figures, whatever the database session's time zone.

Summary rows are UTC days; a bare date compared with an upload time is read in the
session's zone, so on a server not set to UTC a one-day view showed the figures
beside "model versions: none in this period".
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from screening import queries
from screening.accounts import add_hospital
from screening.db import Batch, BatchStatus, Image, ModelVersion, Prediction, Quality, RiskClass, schema
from screening.db.session import session_scope
from screening.rollups import refresh_daily_summary, summary_day
from tests.fixtures_services import temporary_database

pytestmark = pytest.mark.integration

DAY = date(2026, 11, 27)


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Asia/Tokyo"])
def test_one_day_view_names_the_model_behind_its_figures(zone: str) -> None:
    with temporary_database() as plain_url:
        url = f"{plain_url}?options=-c%20timezone%3D{zone.replace('/', '%2F')}"
        schema.upgrade(url)
        # 02:00 UTC is the previous evening in Los Angeles; 23:00 UTC is the next morning in Tokyo.
        uploaded = datetime(2026, 11, 27, 2 if zone.startswith("America") else 23, tzinfo=UTC)
        with session_scope(url) as session:
            hospital = add_hospital(session, "DH", "District Hospital", "D", "R")
            session.add(ModelVersion(id="mv-1", name="fusion", active=True, card={}))
            session.flush()
            batch = Batch(hospital_id=hospital.id, archive_key="uploads/x.zip", status=BatchStatus.COMPLETE,
                          model_version_id="mv-1", created_at=uploaded)
            session.add(batch)
            session.flush()
            image = Image(batch_id=batch.id, hospital_id=hospital.id, filename="a.png", quality=Quality.ACCEPTED,
                          quality_reason="")
            session.add(image)
            session.flush()
            session.add(Prediction(image_id=image.id, batch_id=batch.id, hospital_id=hospital.id,
                                   model_version_id="mv-1", predicted_class=RiskClass.NORMAL, p_normal=0.8,
                                   p_osteopenia=0.1, p_osteoporosis=0.1, referred=False, overlay_keys={}))
            session.flush()
            session.expire(batch)
            assert summary_day(batch.created_at) == DAY  # read back in the session's zone, still the UTC day
            refresh_daily_summary(session, hospital.id, summary_day(batch.created_at))
        with session_scope(url) as session:
            summary = queries.summarize(session, None, "hospital", DAY, DAY)
            assert summary.total.screened == 1
            assert summary.model_version_ids == ["mv-1"]
