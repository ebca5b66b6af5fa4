"""Results back into the study: a DICOM study screened, then SR + SC + PDF sent by C-STORE to a real SCP."""

from __future__ import annotations

import time

import pytest
from pydicom.uid import ComprehensiveSRStorage, EncapsulatedPDFStorage, SecondaryCaptureImageStorage, generate_uid
from sqlalchemy import select

from screening.accounts import get_hospital
from screening.db import session_scope
from screening.db.models import (
    BatchStatus,
    DeliveryState,
    DestinationKind,
    DicomDelivery,
    DicomDestination,
    DicomSource,
    Image,
)
from screening.interop.intake import Instance, submit_study
from screening.local_runner import LocalRunner
from screening.model_registry import load_active_predictor
from screening.pipeline import DELIVER
from screening.pipeline.deliver import publish_due, resend
from screening.sealing import Sealer
from screening.storage import open_store
from tests.conftest import free_port
from tests.dicom_nodes import StorageSCP
from tests.factories import phantom_dicom, phantom_png


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setenv("OSTEO_DELIVERY_ATTEMPTS", "3")
    monkeypatch.setenv("OSTEO_DELIVERY_BACKOFF_SECONDS", "1")
    monkeypatch.setenv("OSTEO_DICOM_TIMEOUT_SECONDS", "5")


@pytest.fixture
def study(tmp_path):
    """Two hand images of one patient in one study, as a PACS would send them."""
    study_uid, series_uid = generate_uid(), generate_uid()
    images = []
    for number, seed in enumerate((21, 32), start=1):  # radiogrammetry measures the second hand, not the first
        png, _ = phantom_png(tmp_path / f"hand{seed}", seed=seed)
        images.append(Instance.read(phantom_dicom(png, patient_id="MRN-5521", age_years=66, sex="F",
                                                  study_uid=study_uid, series_uid=series_uid, instance=number)))
    return study_uid, images


def _destination(settings, port: int) -> int:
    with session_scope(settings.database_url) as session:
        hospital = get_hospital(session, "DH1")
        destination = DicomDestination(hospital_id=hospital.id, name="pacs", kind=DestinationKind.DIMSE,
                                       host="127.0.0.1", port=port, ae_title="TESTPACS")
        session.add(destination)
        session.flush()
        return destination.id


def _screen_study(settings, images) -> tuple[LocalRunner, str, list[str]]:  # type: ignore[no-untyped-def]
    runner = LocalRunner(settings, open_store(settings), lambda: load_active_predictor(settings), reports=True)
    with session_scope(settings.database_url) as session:
        hospital = get_hospital(session, "DH1")
        batch_id = submit_study(session, runner.ctx.store, runner.ctx.enqueue, Sealer.from_settings(settings),
                                hospital, images, "PACS study (C-STORE from TESTMOD)").batch.id
    names: list[str] = []
    runner.ctx.enqueue = lambda name, args: (names.append(name), runner.queue.append((name, args)))  # type: ignore
    batch = runner.run(batch_id)
    assert batch.status is BatchStatus.COMPLETE, batch.error
    return runner, batch_id, names


def _measured(settings, batch_id: str) -> int:
    with session_scope(settings.database_url) as session:
        return len(session.scalars(select(Image.id).where(Image.batch_id == batch_id,
                                                          Image.measurement_overlay_key.is_not(None))).all())


def _delivery(settings, batch_id: str) -> DicomDelivery:
    with session_scope(settings.database_url) as session:
        return session.scalars(select(DicomDelivery).where(DicomDelivery.batch_id == batch_id)).one()


def test_a_screened_study_goes_back_as_sr_capture_and_pdf_in_the_same_study(embedded, study):
    study_uid, images = study
    scp = StorageSCP(free_port())
    try:
        _destination(embedded, scp.port)
        _, batch_id, names = _screen_study(embedded, images)
    finally:
        scp.stop()
    assert DELIVER in names and all("ingest" not in n or "express" in n for n in names)
    measured = _measured(embedded, batch_id)  # a measured hand's overlay goes back as a second capture
    assert measured == 1
    delivery = _delivery(embedded, batch_id)
    assert (delivery.state, delivery.objects, delivery.attempts, delivery.reason) == \
        (DeliveryState.SENT, 5 + measured, 1, None)
    srs, captures = scp.by_class(ComprehensiveSRStorage), scp.by_class(SecondaryCaptureImageStorage)
    documents = scp.by_class(EncapsulatedPDFStorage)
    assert (len(srs), len(captures), len(documents)) == (2, 2 + measured, 1)
    sources = {image.header.SOPInstanceUID for image in images}
    for ds in scp.stored:
        assert ds.StudyInstanceUID == study_uid and ds.PatientID == "MRN-5521" and str(ds.PatientName) == "Doe^Jane"
        assert ds.SeriesInstanceUID not in {image.header.SeriesInstanceUID for image in images}
    assert {sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
            .ReferencedSOPInstanceUID for sr in srs} == sources
    assert {sc.SourceImageSequence[0].ReferencedSOPInstanceUID for sc in captures} == sources
    assert sum("radiogrammetry" in sc.ImageComments for sc in captures) == measured
    assert sum("OSTEO-CI" in str(sr.ContentSequence) for sr in srs) == 1  # the measured hand's cortical index
    assert len({sr.SeriesInstanceUID for sr in srs}) == 1 and sorted(sr.InstanceNumber for sr in srs) == [1, 2]
    pdf = documents[0].EncapsulatedDocument[:documents[0].EncapsulatedDocumentLength]
    assert pdf.startswith(b"%PDF") and documents[0].MIMETypeOfEncapsulatedDocument == "application/pdf"
    with session_scope(embedded.database_url) as session:
        sealed = session.scalars(select(DicomSource.sealed).where(DicomSource.batch_id == batch_id)).all()
    assert len(sealed) == 2 and not any("MRN-5521" in token for token in sealed)


def test_a_destination_that_is_down_is_retried_then_failed_and_a_resend_delivers_once(embedded, study):
    _, images = study
    port = free_port()  # nothing listens here yet
    _destination(embedded, port)
    runner, batch_id, _ = _screen_study(embedded, images)
    first = _delivery(embedded, batch_id)
    assert first.state is DeliveryState.PENDING and first.attempts == 1
    assert f"C-STORE to TESTPACS@127.0.0.1:{port}" in first.reason and "try 1 of 3" in first.reason
    while (delivery := _delivery(embedded, batch_id)).state is DeliveryState.PENDING:
        time.sleep(0.5)
        publish_due(runner.ctx)  # what the recovery sweep does every OSTEO_SWEEP_INTERVAL_SECONDS
        runner.run(batch_id)
    assert delivery.state is DeliveryState.FAILED and delivery.attempts == 3
    assert "no association" in delivery.reason and "gave up after 3 tries" in delivery.reason
    waits = (delivery.updated_at - first.updated_at).total_seconds()
    assert waits >= 1 + 2 - 0.5  # backoff 1 s, then 2 s

    scp = StorageSCP(port)
    try:
        with session_scope(embedded.database_url) as session:
            resend(session, session.get_one(DicomDelivery, delivery.id))
        assert publish_due(runner.ctx) == [delivery.id]
        runner.ctx.enqueue(DELIVER, (delivery.id,))  # a second publish (a double click) sends nothing more
        runner.run(batch_id)
    finally:
        scp.stop()
    delivery = _delivery(embedded, batch_id)
    objects = 5 + _measured(embedded, batch_id)
    assert delivery.state is DeliveryState.SENT and delivery.reason is None and delivery.objects == objects
    assert len(scp.stored) == objects and set(scp.calls.values()) == {1}


def test_no_destination_or_no_dicom_source_means_no_delivery(embedded, study, tmp_path):
    _, images = study
    _, batch_id, names = _screen_study(embedded, images)  # the hospital has no destination
    assert DELIVER not in names
    with session_scope(embedded.database_url) as session:
        assert session.scalar(select(DicomDelivery)) is None
