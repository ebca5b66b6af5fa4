"""The DICOM listener: C-STORE from a mapped AE title spools, a stable study becomes an express batch."""

from __future__ import annotations

import io
import time

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE
from sqlalchemy import select

from screening.accounts import get_hospital
from screening.db import session_scope
from screening.db.models import Batch, BatchStatus, DicomSource, Image
from screening.interop.listener import NOT_AUTHORISED, Listener
from screening.interop.nodes import add_ae_title
from screening.local_runner import LocalRunner
from screening.model_registry import load_active_predictor
from screening.storage import open_store
from tests.conftest import free_port
from tests.factories import phantom_dicom, phantom_png


@pytest.fixture
def listener(embedded, tmp_path):
    with session_scope(embedded.database_url) as session:
        add_ae_title(session, get_hospital(session, "DH1"), "CR_ROOM_1")
    runner = LocalRunner(embedded, open_store(embedded), lambda: load_active_predictor(embedded), reports=False)
    node = Listener(embedded, runner.ctx.store, runner.ctx.enqueue, spool=tmp_path / "spool")
    port = free_port()
    node.start("127.0.0.1", port)
    yield node, runner, port
    node.stop()


def _send(port: int, calling: str, files: list[bytes]) -> list[int]:
    ae = AE(ae_title=calling)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 120  # a loaded test machine must not fail the test
    datasets = [pydicom.dcmread(io.BytesIO(data)) for data in files]
    for sop_class in {ds.SOPClassUID for ds in datasets}:
        ae.add_requested_context(sop_class, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port, ae_title="OSTEOAI")
    assert assoc.is_established
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in datasets]
    finally:
        assoc.release()


def test_a_mapped_caller_s_study_is_spooled_then_screened_as_one_express_batch(listener, embedded, tmp_path):
    node, runner, port = listener
    study_uid = generate_uid()
    files = [phantom_dicom(phantom_png(tmp_path / f"h{seed}", seed=seed)[0], patient_id="MRN-8", study_uid=study_uid,
                           instance=number) for number, seed in enumerate((31, 32), start=1)]
    assert _send(port, "CR_ROOM_1", files) == [0, 0]
    spooled = [p for p in (tmp_path / "spool").rglob("*") if p.is_file()]
    assert spooled and not any(study_uid in str(p) or "MRN-8" in str(p) for p in spooled)
    assert node.gather_once() == []  # not stable yet: more instances may come
    batches = node.gather_once(now=time.time() + embedded.dicom_stable_seconds + 1)
    assert len(batches) == 1 and not list((tmp_path / "spool" / "DH1").glob("*"))
    batch = runner.run(batches[0])
    assert batch.status is BatchStatus.COMPLETE, batch.error
    with session_scope(embedded.database_url) as session:
        row = session.get_one(Batch, batches[0])
        assert row.express and row.original_filename == "PACS study from CR_ROOM_1 (2 images)"
        names = session.scalars(select(Image.filename).where(Image.batch_id == row.id).order_by(Image.filename)).all()
        assert names == ["image-0001.dcm", "image-0002.dcm"]
        assert session.query(DicomSource).filter_by(batch_id=row.id).count() == 2


def test_an_unknown_caller_is_refused_and_nothing_is_kept(listener, tmp_path):
    _, _, port = listener
    data = phantom_dicom(phantom_png(tmp_path / "h", seed=33)[0])
    assert _send(port, "STRANGER", [data]) == [NOT_AUTHORISED]
    assert not [p for p in (tmp_path / "spool").rglob("*.dcm")]
