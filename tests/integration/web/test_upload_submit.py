"""The upload API's answers for what submit_batch reports: 409 on a reused key, 503 when the broker is down."""

from __future__ import annotations

import io
import zipfile

import pytest
import redis

from screening.db.models import Batch, BatchStatus
from screening.db.session import session_scope
from tests.integration.web.world import World

pytestmark = pytest.mark.integration


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", text)
    return buffer.getvalue()


def _post(client, world: World, data: bytes, key: str | None = None):
    headers = {**world.auth("staff_north"), **({"Idempotency-Key": key} if key else {})}
    return client.post("/api/v1/batches", data=data, content_type="application/zip", headers=headers)


def test_same_key_with_a_different_body_is_409(client, world: World, enqueued) -> None:
    first = _post(client, world, _zip("monday"), "key-conflict-1")
    other = _post(client, world, _zip("tuesday"), "key-conflict-1")
    assert (first.status_code, other.status_code) == (202, 409)
    assert "different archive" in other.json["detail"]
    assert len(enqueued) == 1


def test_broker_down_after_commit_is_503_with_retry_after_and_the_batch_kept(app, client, world: World,
                                                                           world_db: str) -> None:
    def broker_down(name: str, args: tuple) -> None:
        raise redis.exceptions.ConnectionError("Error 111 connecting to 10.9.9.9:6379. Connection refused.")

    app.extensions["osteo"].enqueue = broker_down
    response = _post(client, world, _zip("wednesday"), "key-broker-1")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "10.9.9.9" not in response.get_data(as_text=True)
    batch_id = response.json["batch_id"]
    with session_scope(world_db) as session:
        assert session.get(Batch, batch_id).status is BatchStatus.QUEUED  # the sweep will enqueue it
    app.extensions["osteo"].enqueue = lambda name, args: None
    again = _post(client, world, _zip("wednesday"), "key-broker-1")
    assert again.status_code == 200 and again.json["id"] == batch_id


def test_problems_are_paged(client, world: World, world_db: str) -> None:
    from screening.db.models import BatchProblem

    response = _post(client, world, _zip("thursday"))
    batch_id = response.json["id"]
    with session_scope(world_db) as session:
        session.add_all(BatchProblem(batch_id=batch_id, filename=f"f{i}.png", message="named in manifest.csv "
                                     "but not in the archive") for i in range(7))
        session.get(Batch, batch_id).problems_total = 7
    page = client.get(f"/api/v1/batches/{batch_id}/problems?limit=5", headers=world.auth("staff_north")).json
    assert page["total"] == 7 and len(page["items"]) == 5 and page["next_offset"] == 5
    assert page["items"][0] == {"file": "f0.png", "message": "named in manifest.csv but not in the archive"}
    rest = client.get(f"/api/v1/batches/{batch_id}/problems?limit=5&offset=5", headers=world.auth("staff_north"))
    assert [item["file"] for item in rest.json["items"]] == ["f5.png", "f6.png"]
    other = client.get(f"/api/v1/batches/{batch_id}/problems", headers=world.auth("staff_south"))
    assert other.status_code == 404
    status = client.get(f"/api/v1/batches/{batch_id}", headers=world.auth("staff_north")).json
    assert status["problems_total"] == 7 and status["links"]["problems"].endswith("/problems")
