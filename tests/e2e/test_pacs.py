"""A real PACS end to end: Orthanc forwards a hand study, results come back into the same study.

Debian's Orthanc (with DICOMweb) runs on loopback with a temporary configuration;
dcmtk's storescu plays the modality and dsrdump reads the SR. The product runs as
the processes docker compose runs (worker/topology.py): web, the bulk and express
workers, an inference worker and the DICOM listener, on the machine's PostgreSQL
and Redis. Also here: STOW-RS into the API, results sent by both C-STORE and
STOW-RS, a PACS that is down (tries, then failed with the reason, then a resend
once it is back stores each object exactly once), and the one-study call with ?wait=.
"""

from __future__ import annotations

import io
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest

from tests.factories import phantom_png
from tests.hospital_systems import Api, Systems, hand_study, hospital_systems
from tests.processes import wait_for

pytestmark = pytest.mark.integration

SR, SC, PDF = "1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.104.1"
BOUNDARY = "osteo-e2e"


@pytest.fixture
def systems(postgres_url, redis_url, tmp_path) -> Iterator[Systems]:
    with hospital_systems(postgres_url, redis_url, tmp_path / "systems") as running:
        yield running


def _deliveries(api: Api, batch_id: str) -> dict[str, dict[str, Any]]:
    return {d["destination"]["name"]: d for d in api.json(f"/api/v1/batches/{batch_id}")["deliveries"]}


def test_a_study_forwarded_by_the_pacs_comes_back_with_sr_pdf_and_capture_in_the_same_study(systems, tmp_path):
    orthanc, api, services = systems.orthanc, systems.api, systems.services
    study_uid, files = hand_study(tmp_path, 1, seed=1, patient_id="MRN-PACS-1")
    orthanc.storescu(*files)  # the modality sends the study to the PACS
    study = orthanc.study_id(study_uid)
    before = systems.batch_ids()
    started = time.monotonic()
    orthanc.post("/modalities/osteo/store", study.encode())  # the PACS forwards it to OSTEO AI's listener
    batch = systems.delivered(before, 300)
    elapsed = time.monotonic() - started
    print(f"\nC-STORE to results back in Orthanc, 1-image study: {elapsed:.1f} s")
    results = api.json(batch["links"]["results"])["items"]
    assert batch["status"] == "complete" and batch["filename"] == "PACS study from ORTHANC (1 image)"
    assert len(results) == 1 and results[0]["class"]
    measured = 1 if results[0]["measured"] else 0  # the measurement overlay is a second capture

    found = orthanc.instances(study_uid)
    by_class = {item["MainDicomTags"]["SOPInstanceUID"]: item for item in found}
    tags = {uid: orthanc.tags(item["ID"]) for uid, item in by_class.items()}
    assert sorted(t["SOPClassUID"] for t in tags.values()) == sorted([_sop_class(files[0]), SR, SC, PDF]
                                                                     + [SC] * measured)
    assert {t["StudyInstanceUID"] for t in tags.values()} == {study_uid}
    assert {t["PatientID"] for t in tags.values()} == {"MRN-PACS-1"}
    assert len({t["SeriesInstanceUID"] for t in tags.values()}) == 4  # SR, captures, PDF: each a new series
    series = json.loads(orthanc.request("GET", f"/dicom-web/studies/{study_uid}/series"))
    assert len(series) == 4 and {s["00080060"]["Value"][0] for s in series} == {"CR", "SR", "OT", "DOC"}

    sr_id = next(item["ID"] for uid, item in by_class.items() if tags[uid]["SOPClassUID"] == SR)
    (tmp_path / "sr.dcm").write_bytes(orthanc.file(sr_id))
    dump = subprocess.run(["dsrdump", "+Pl", str(tmp_path / "sr.dcm")], capture_output=True, text=True, timeout=30)
    assert dump.returncode == 0, dump.stderr
    version = batch["model_version"]["id"]
    assert f'"Algorithm Version")="{version}"' in dump.stdout and "Bone density screening class" in dump.stdout
    assert "screening aid, not a diagnosis" in dump.stdout

    pdf_id = next(item["ID"] for uid, item in by_class.items() if tags[uid]["SOPClassUID"] == PDF)
    document = pydicom.dcmread(io.BytesIO(orthanc.file(pdf_id)))
    # The stored report (pseudonym only) goes back into the study; staff who download it through the
    # app get it rendered again with their hospital's patient id, so the two files differ.
    sent = document.EncapsulatedDocument[:document.EncapsulatedDocumentLength]
    stored = [path.read_bytes() for path in Path(systems.env["OSTEO_STORAGE_DIR"]).rglob("*.pdf")]
    assert sent in stored
    status, _, identified = api.call("GET", results[0]["links"]["report_pdf"])
    assert status == 200 and identified.startswith(b"%PDF") and identified != sent

    deliveries = _deliveries(api, batch["id"])
    objects = 3 + measured
    assert {name: (d["state"], d["objects"]) for name, d in deliveries.items()} == {
        "orthanc-dimse": ("sent", objects), "orthanc-web": ("sent", objects)}  # C-STORE and STOW-RS: one copy kept
    assert len(orthanc.instances(study_uid)) == 1 + objects == systems.expected_results(batch) + 1
    logs = "".join(service.log.read_text(errors="replace") for service in services)
    assert "MRN-PACS-1" not in logs and "Doe^Jane" not in logs and study_uid not in logs


def _sop_class(path: Path) -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID)


def _stow(api: Api, files: list[Path]) -> tuple[int, Any, bytes]:
    body = b"".join(f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + f.read_bytes() + b"\r\n"
                    for f in files) + f"--{BOUNDARY}--\r\n".encode()
    return api.call("POST", "/api/v1/dicomweb/studies", body,
                    {"Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'})


def test_stow_rs_in_a_pacs_that_is_down_is_retried_then_failed_and_a_resend_stores_each_object_once(
        systems, tmp_path):
    orthanc, api, services = systems.orthanc, systems.api, systems.services
    orthanc.stop()  # the PACS is down while the study is screened
    study_uid, files = hand_study(tmp_path, 1, seed=2, patient_id="MRN-PACS-2")
    status, headers, body = _stow(api, files)
    assert status == 200, body
    batch_id = headers["X-Osteo-Batches"]
    deadline = time.monotonic() + 300
    while True:
        deliveries = _deliveries(api, batch_id)
        if len(deliveries) == 2 and {d["state"] for d in deliveries.values()} == {"failed"}:
            break
        assert time.monotonic() < deadline, (deliveries, [s.tail(30) for s in services])
        time.sleep(1)
    assert all(d["attempts"] == 3 and "gave up after 3 tries" in d["reason"] for d in deliveries.values())
    assert "no association" in deliveries["orthanc-dimse"]["reason"]
    assert f"STOW-RS to {orthanc.base}/dicom-web" in deliveries["orthanc-web"]["reason"]

    orthanc.start()  # back
    for delivery in deliveries.values():
        status, _, _ = api.call("POST", delivery["links"]["resend"])
        assert status == 202
    wait_for(lambda: {d["state"] for d in _deliveries(api, batch_id).values()} == {"sent"}, 120, "the resends")
    results = api.json(f"/api/v1/batches/{batch_id}/results")["items"]
    captures = [SC] * (2 if results[0]["measured"] else 1)
    found = orthanc.instances(study_uid)
    assert sorted(orthanc.tags(i["ID"])["SOPClassUID"] for i in found) == sorted([SR, PDF, *captures])  # once each
    status, _, _ = api.call("POST", _deliveries(api, batch_id)["orthanc-dimse"]["links"]["resend"])
    wait_for(lambda: _deliveries(api, batch_id)["orthanc-dimse"]["state"] == "sent", 60, "a second resend")
    assert len(orthanc.instances(study_uid)) == 2 + len(captures)  # a resend replaces, it never duplicates


def test_one_image_one_call_with_wait_answers_with_the_result(systems, tmp_path):
    api = systems.api
    png, _ = phantom_png(tmp_path / "one", seed=7)
    status, _, body = api.call("POST", "/api/v1/screenings?wait=120&age_years=64&sex=F", png.read_bytes(),
                               {"Content-Type": "image/png", "X-Filename": "hand.png"})
    answer = json.loads(body)
    assert status == 200, answer
    result = answer["result"]
    assert answer["status"] == "complete" and result["class"] and result["probabilities"]
    assert {"jet", "report_pdf"} <= set(result["links"]) and answer["deliveries"] == []
