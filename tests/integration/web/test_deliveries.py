"""Result deliveries on the batch API and page, resend, and the admin pages' DICOM section (real PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from screening.accounts import get_hospital
from screening.db.models import (
    AuditEvent,
    DeliveryState,
    DestinationKind,
    DicomAeTitle,
    DicomDelivery,
    DicomDestination,
)
from screening.db.session import session_scope
from screening.pipeline import DELIVER
from tests.integration.web.world import World, csrf_token, login

pytestmark = pytest.mark.integration


@pytest.fixture
def failed_delivery(world: World, world_db: str):  # type: ignore[no-untyped-def]
    with session_scope(world_db) as session:
        hospital = get_hospital(session, "NORTH")
        destination = session.scalar(select(DicomDestination).where(DicomDestination.name == "north-pacs"))
        if destination is None:
            destination = DicomDestination(hospital_id=hospital.id, name="north-pacs", kind=DestinationKind.DIMSE,
                                           host="pacs.north.example", port=104, ae_title="NORTHPACS")
            session.add(destination)
            session.flush()
        delivery = session.scalar(select(DicomDelivery).where(DicomDelivery.batch_id == world.batches["NORTH"]))
        if delivery is None:
            delivery = DicomDelivery(batch_id=world.batches["NORTH"], destination_id=destination.id)
            session.add(delivery)
        delivery.state, delivery.attempts = DeliveryState.FAILED, 6
        delivery.reason = "C-STORE to NORTHPACS@pacs.north.example:104: no association (gave up after 6 tries)"
        session.flush()
        return delivery.id


def test_the_batch_api_shows_each_destination_s_delivery(client, world: World, failed_delivery) -> None:
    body = client.get(f"/api/v1/batches/{world.batches['NORTH']}", headers=world.auth("staff_north")).json
    [delivery] = body["deliveries"]
    assert delivery["state"] == "failed" and delivery["attempts"] == 6 and "no association" in delivery["reason"]
    assert delivery["destination"] == {"name": "north-pacs", "kind": "dimse",
                                       "address": "NORTHPACS@pacs.north.example:104"}
    assert delivery["links"]["resend"].endswith(f"/deliveries/{failed_delivery}/resend")
    other = client.get(f"/api/v1/batches/{world.batches['SOUTH']}", headers=world.auth("staff_south")).json
    assert other["deliveries"] == []


def test_resend_starts_again_and_enqueues_once_for_the_hospital_s_staff(client, world: World, world_db,
                                                                          failed_delivery, enqueued) -> None:
    url = f"/api/v1/batches/{world.batches['NORTH']}/deliveries/{failed_delivery}/resend"
    assert client.post(url, headers=world.auth("official_north")).status_code == 403
    assert client.post(url, headers=world.auth("staff_south")).status_code == 404
    wrong_batch = f"/api/v1/batches/{world.batches['SOUTH']}/deliveries/{failed_delivery}/resend"
    assert client.post(wrong_batch, headers=world.auth("admin")).status_code == 404
    assert enqueued == []
    response = client.post(url, headers=world.auth("staff_north"))
    assert response.status_code == 202 and response.json["state"] == "pending" and response.json["attempts"] == 0
    assert enqueued == [(DELIVER, (failed_delivery,))]
    with session_scope(world_db) as session:
        delivery = session.get_one(DicomDelivery, failed_delivery)
        assert (delivery.state, delivery.attempts, delivery.reason) == (DeliveryState.PENDING, 0, None)
        assert session.scalar(select(AuditEvent).where(AuditEvent.action == "delivery.resend",
                                                       AuditEvent.target_id == str(failed_delivery)))


def test_the_batch_page_shows_deliveries_with_a_resend_button(client, world: World, failed_delivery,
                                                              enqueued) -> None:
    login(client, world.emails["staff_north"])
    page = client.get(f"/batches/{world.batches['NORTH']}").get_data(as_text=True)
    assert "Results back to hospital systems" in page and "north-pacs" in page and "no association" in page
    assert f"/deliveries/{failed_delivery}/resend" in page
    response = client.post(f"/batches/{world.batches['NORTH']}/deliveries/{failed_delivery}/resend",
                           data={"csrf_token": csrf_token(client, f"/batches/{world.batches['NORTH']}")})
    assert response.status_code == 302 and enqueued == [(DELIVER, (failed_delivery,))]


def test_admins_map_ae_titles_and_add_destinations(client, world: World, world_db) -> None:
    login(client, world.emails["admin"])
    token = csrf_token(client, "/admin")
    client.post("/admin/dicom/ae-titles", data={"csrf_token": token, "ae_title": "HILLCR1", "hospital": "HILL"})
    client.post("/admin/dicom/destinations", data={"csrf_token": token, "hospital": "HILL", "name": "hill-web",
                                                   "url": "http://pacs.hill.example/dicom-web/"})
    refused = client.post("/admin/dicom/destinations", follow_redirects=True, data={
        "csrf_token": token, "hospital": "HILL", "name": "bad", "url": "http://user:secret@pacs.hill.example/"})
    assert "without credentials" in refused.get_data(as_text=True)
    page = client.get("/admin").get_data(as_text=True)
    assert "HILLCR1" in page and "http://pacs.hill.example/dicom-web" in page and "secret" not in page
    with session_scope(world_db) as session:
        assert session.get_one(DicomAeTitle, "HILLCR1").hospital.code == "HILL"
        stow = session.scalar(select(DicomDestination).where(DicomDestination.name == "hill-web"))
        assert stow.kind is DestinationKind.STOW and stow.url == "http://pacs.hill.example/dicom-web"
    login(client, world.emails["staff_north"])
    assert client.post("/admin/dicom/ae-titles", data={"csrf_token": csrf_token(client, "/batches"),
                                                       "ae_title": "X", "hospital": "NORTH"}).status_code == 403
