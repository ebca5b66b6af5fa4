"""Overlay downloads show the batch's own model's Grad-CAM, not whichever model screened the image last."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from screening.db.models import Batch, Image, ModelVersion, Prediction, RiskClass
from screening.db.session import session_scope
from tests.integration.web.world import World

pytestmark = pytest.mark.integration


def test_overlay_comes_from_the_batch_model_even_when_a_newer_model_screened_the_image(
        app, client, world: World, world_db: str) -> None:
    store = app.extensions["osteo"].store
    image_id = world.images["NORTH"]
    with session_scope(world_db) as session:
        image = session.get(Image, image_id)
        batch = session.get(Batch, image.batch_id)
        session.add(ModelVersion(id="mv-candidate-0002", name="fusion-candidate", card={"name": "candidate"}))
        session.flush()
        prefix = f"overlays/{batch.id}/{image_id}/candidate"
        for name in ("jet", "clahe"):
            store.put_bytes(f"{prefix}/{name}.png", b"\x89PNG candidate " + name.encode(), "image/png")
        session.add(Prediction(image_id=image_id, batch_id=batch.id, hospital_id=image.hospital_id,
                               patient_id=image.patient_id, model_version_id="mv-candidate-0002",
                               predicted_class=RiskClass.NORMAL, p_normal=0.8, p_osteopenia=0.1, p_osteoporosis=0.1,
                               clahe_key=f"{prefix}/clahe.png", overlay_keys={"jet": f"{prefix}/jet.png"},
                               created_at=datetime.now(UTC) + timedelta(days=1)))
    auth = world.auth("staff_north")
    jet = client.get(f"/api/v1/images/{image_id}/overlay/jet", headers=auth)
    clahe = client.get(f"/api/v1/images/{image_id}/overlay/clahe", headers=auth)
    assert jet.status_code == 200 and jet.data == b"\x89PNG fake jet"
    assert clahe.status_code == 200 and clahe.data == b"\x89PNG fake clahe"
