"""STOW-RS: DICOM instances over HTTP become one express batch per study, with their sources sealed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom.uid import generate_uid
from sqlalchemy import select

from screening.db.models import Batch, DicomSource
from screening.db.session import session_scope
from screening.pipeline import INGEST
from screening.pipeline.names import in_lane
from tests.factories import phantom_dicom, phantom_png
from tests.integration.web.world import World

pytestmark = pytest.mark.integration
BOUNDARY = "osteo-test-boundary"
CONTENT_TYPE = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'


def multipart(*parts: tuple[str, bytes]) -> bytes:
    body = b"".join(f"--{BOUNDARY}\r\nContent-Type: {media}\r\n\r\n".encode() + data + b"\r\n" for media, data in parts)
    return body + f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture(scope="module")
def hands(tmp_path_factory) -> list[Path]:
    return [phantom_png(tmp_path_factory.mktemp(f"h{seed}"), seed=seed)[0] for seed in (41, 42, 43)]


def test_instances_of_two_studies_make_two_express_batches_and_a_bad_part_is_reported(client, world: World, world_db,
                                                                                       enqueued, hands) -> None:
    first, second = generate_uid(), generate_uid()
    body = multipart(("application/dicom", phantom_dicom(hands[0], study_uid=first, instance=1)),
                     ("application/dicom", phantom_dicom(hands[1], study_uid=first, instance=2)),
                     ("application/dicom", phantom_dicom(hands[2], study_uid=second)),
                     ("application/dicom", b"not dicom at all"))
    response = client.post("/api/v1/dicomweb/studies", data=body, content_type=CONTENT_TYPE,
                           headers=world.auth("staff_north"))
    assert response.status_code == 202 and response.mimetype == "application/dicom+json"
    answer = json.loads(response.data)
    assert len(answer["00081199"]["Value"]) == 3 and answer["00081198"]["Value"][0]["00081197"]["Value"] == [0xC000]
    batches = response.headers["X-Osteo-Batches"].split(",")
    assert len(batches) == 2 and response.headers["Location"] == f"/api/v1/screenings/{batches[0]}"
    assert enqueued == [(in_lane(INGEST, True), (batch,)) for batch in batches]
    with session_scope(world_db) as session:
        rows = {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(batches)))}
        assert all(b.express and b.hospital.code == "NORTH" for b in rows.values())
        assert sorted(b.original_filename for b in rows.values()) == ["STOW-RS study (1 image)",
                                                                     "STOW-RS study (2 images)"]
        assert session.query(DicomSource).filter(DicomSource.batch_id.in_(batches)).count() == 3


def test_stow_refuses_officials_and_other_media_types(client, world: World, hands) -> None:
    body = multipart(("application/dicom", phantom_dicom(hands[0])))
    assert client.post("/api/v1/dicomweb/studies", data=body, content_type=CONTENT_TYPE,
                       headers=world.auth("official_north")).status_code == 403
    assert client.post("/api/v1/dicomweb/studies", data=body, content_type="application/dicom",
                       headers=world.auth("staff_north")).status_code == 415
    none = client.post("/api/v1/dicomweb/studies", data=multipart(("text/plain", b"hello")),
                       content_type=CONTENT_TYPE, headers=world.auth("staff_north"))
    assert none.status_code == 409 and "00081199" not in json.loads(none.data)
