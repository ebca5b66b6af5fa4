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
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pydicom
import pytest
import redis
from pydicom.uid import generate_uid

from tests.conftest import free_port
from tests.factories import make_tiny_bundle, phantom_dicom, phantom_png
from tests.orthanc import Orthanc
from tests.processes import REPO_ROOT, Service, wait_for
from worker.topology import SERVICES, local_command, web_server

pytestmark = pytest.mark.integration

SR, SC, PDF = "1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.7", "1.2.840.10008.5.1.4.1.1.104.1"
BOUNDARY = "osteo-e2e"


def _osteo(env: dict[str, str], *args: str) -> str:
    inherited = {key: os.environ[key] for key in ("PYTHONPATH",) if key in os.environ}
    result = subprocess.run(local_command(["osteo", *args]), env={**inherited, **env}, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
        request = urllib.request.Request(self.base + path, data=body, method=method,
                                         headers={"Authorization": f"Bearer {self.token}", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=180) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def json(self, path: str) -> dict[str, Any]:
        status, _, body = self.call("GET", path)
        assert status == 200, body[:500]
        return json.loads(body)


@pytest.fixture
def hospital_systems(postgres_url, redis_url, tmp_path, tmp_path_factory):
    """Orthanc and the product's processes, wired to each other; yields (orthanc, api, env, services)."""
    redis.Redis.from_url(redis_url).flushdb()
    port, listener_port = free_port(), free_port()
    env = {
        "PATH": str(Path(local_command(["osteo"])[0]).parent) + ":/usr/bin:/bin",
        "OSTEO_VAR_DIR": str(tmp_path / "var"), "OSTEO_DATABASE_URL": postgres_url, "OSTEO_REDIS_URL": redis_url,
        "OSTEO_STORAGE_DIR": str(tmp_path / "objects"),
        "OSTEO_MODEL_BUNDLE": str(make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")),
        "OSTEO_CHUNK_SIZE": "16", "OSTEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "OSTEO_DICOM_PORT": str(listener_port), "OSTEO_DICOM_STABLE_SECONDS": "2", "OSTEO_DICOM_TIMEOUT_SECONDS": "10",
        "OSTEO_DELIVERY_ATTEMPTS": "3", "OSTEO_DELIVERY_BACKOFF_SECONDS": "1", "OSTEO_SWEEP_INTERVAL_SECONDS": "1",
    }
    orthanc = Orthanc(tmp_path / "orthanc", {"osteo": ("OSTEOAI", "127.0.0.1", listener_port)})
    _osteo(env, *SERVICES["migrate"][1:])
    _osteo(env, "hospital", "add", "DH-PACS", "--name", "PACS Hospital", "--district", "North", "--region", "Coast")
    _osteo(env, "user", "add", "ris@dh-pacs.org", "--role", "staff", "--hospital", "DH-PACS", "--password", "s3cret-pass")
    token = _osteo(env, "token", "create", "ris@dh-pacs.org", "--name", "ris").strip().splitlines()[0]
    _osteo(env, "dicom", "ae-add", "DH-PACS", orthanc.aet)
    _osteo(env, "dicom", "destination-add", "DH-PACS", "orthanc-dimse", "--host", "127.0.0.1",
           "--port", str(orthanc.dicom_port), "--ae-title", orthanc.aet)
    _osteo(env, "dicom", "destination-add", "DH-PACS", "orthanc-web", "--url", f"{orthanc.base}/dicom-web")
    services: list[Service] = []
    try:
        services.append(Service(local_command(web_server(port)), env, tmp_path / "web.log"))
        for name in ("worker", "worker-express", "inference-cpu", "dicom-listener"):
            services.append(Service(local_command(SERVICES[name]), env, tmp_path / f"{name}.log"))
        wait_for(lambda: _up(f"http://127.0.0.1:{port}/healthz"), 90, "gunicorn to answer /healthz")
        yield orthanc, Api(f"http://127.0.0.1:{port}", token), env, services
    finally:
        for service in services:
            service.stop()
        orthanc.stop()
        redis.Redis.from_url(redis_url).flushdb()


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _study(tmp_path: Path, count: int, seed: int, patient_id: str) -> tuple[str, list[Path]]:
    """A hand study of ``count`` phantom images written as DICOM files (one patient, one study)."""
    study_uid, series_uid, files = generate_uid(), generate_uid(), []
    for number in range(1, count + 1):
        png, _ = phantom_png(tmp_path / f"src-{seed}-{number}", seed=seed * 100 + number)
        path = tmp_path / f"{seed}-{number}.dcm"
        path.write_bytes(phantom_dicom(png, patient_id=patient_id, age_years=68, sex="F", study_uid=study_uid,
                                       series_uid=series_uid, instance=number, accession=f"ACC-{seed}"))
        files.append(path)
    return study_uid, files


def _results_in(orthanc: Orthanc, study_uid: str, expected: int, timeout: float, services: list[Service]) -> list:
    deadline = time.monotonic() + timeout
    while len(found := orthanc.instances(study_uid)) < expected:
        assert time.monotonic() < deadline, ("results did not arrive", len(found),
                                             [s.tail(30) for s in services])
        time.sleep(0.5)
    return found


def _deliveries(api: Api, batch_id: str) -> dict[str, dict[str, Any]]:
    return {d["destination"]["name"]: d for d in api.json(f"/api/v1/batches/{batch_id}")["deliveries"]}


def _batch_of(api: Api, label_start: str) -> dict[str, Any]:
    items = api.json("/api/v1/batches?limit=50")["items"]
    return next(b for b in items if b["filename"].startswith(label_start))


def test_a_study_forwarded_by_the_pacs_comes_back_with_sr_pdf_and_capture_in_the_same_study(hospital_systems,
                                                                                             tmp_path):
    orthanc, api, env, services = hospital_systems
    study_uid, files = _study(tmp_path, 1, seed=1, patient_id="MRN-PACS-1")
    orthanc.storescu(*files)  # the modality sends the study to the PACS
    study = orthanc.study_id(study_uid)
    started = time.monotonic()
    orthanc.post("/modalities/osteo/store", study.encode())  # the PACS forwards it to OSTEO AI's listener
    found = _results_in(orthanc, study_uid, 4, 300, services)
    elapsed = time.monotonic() - started
    print(f"\nC-STORE to results back in Orthanc, 1-image study: {elapsed:.1f} s")

    by_class = {item["MainDicomTags"]["SOPInstanceUID"]: item for item in found}
    tags = {uid: orthanc.tags(item["ID"]) for uid, item in by_class.items()}
    assert sorted(t["SOPClassUID"] for t in tags.values()) == sorted([_sop_class(files[0]), SR, SC, PDF])
    assert {t["StudyInstanceUID"] for t in tags.values()} == {study_uid}
    assert {t["PatientID"] for t in tags.values()} == {"MRN-PACS-1"}
    assert len({t["SeriesInstanceUID"] for t in tags.values()}) == 4  # each result in a new series
    series = json.loads(orthanc.request("GET", f"/dicom-web/studies/{study_uid}/series"))
    assert len(series) == 4 and {s["00080060"]["Value"][0] for s in series} == {"CR", "SR", "OT", "DOC"}

    sr_id = next(item["ID"] for uid, item in by_class.items() if tags[uid]["SOPClassUID"] == SR)
    (tmp_path / "sr.dcm").write_bytes(orthanc.file(sr_id))
    dump = subprocess.run(["dsrdump", "+Pl", str(tmp_path / "sr.dcm")], capture_output=True, text=True, timeout=30)
    assert dump.returncode == 0, dump.stderr
    batch = _batch_of(api, "PACS study from ORTHANC")
    results = api.json(batch["links"]["results"])["items"]
    assert batch["status"] == "complete" and len(results) == 1 and results[0]["class"]
    version = batch["model_version"]["id"]
    assert f'"Algorithm Version")="{version}"' in dump.stdout and "Bone density screening class" in dump.stdout
    assert "screening aid, not a diagnosis" in dump.stdout

    pdf_id = next(item["ID"] for uid, item in by_class.items() if tags[uid]["SOPClassUID"] == PDF)
    document = pydicom.dcmread(io.BytesIO(orthanc.file(pdf_id)))
    status, _, report = api.call("GET", results[0]["links"]["report_pdf"])
    assert status == 200 and document.EncapsulatedDocument[:document.EncapsulatedDocumentLength] == report

    deliveries = _deliveries(api, batch["id"])
    assert {name: (d["state"], d["objects"]) for name, d in deliveries.items()} == {
        "orthanc-dimse": ("sent", 3), "orthanc-web": ("sent", 3)}  # C-STORE and STOW-RS, one copy kept
    assert len(orthanc.instances(study_uid)) == 4
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
        hospital_systems, tmp_path):
    orthanc, api, env, services = hospital_systems
    orthanc.stop()  # the PACS is down while the study is screened
    study_uid, files = _study(tmp_path, 1, seed=2, patient_id="MRN-PACS-2")
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
    found = orthanc.instances(study_uid)
    assert sorted(orthanc.tags(i["ID"])["SOPClassUID"] for i in found) == sorted([SR, SC, PDF])  # once each
    status, _, _ = api.call("POST", _deliveries(api, batch_id)["orthanc-dimse"]["links"]["resend"])
    wait_for(lambda: _deliveries(api, batch_id)["orthanc-dimse"]["state"] == "sent", 60, "a second resend")
    assert len(orthanc.instances(study_uid)) == 3  # a resend replaces, it never duplicates


def test_one_image_one_call_with_wait_answers_with_the_result(hospital_systems, tmp_path):
    _, api, _, _ = hospital_systems
    png, _ = phantom_png(tmp_path / "one", seed=7)
    status, _, body = api.call("POST", "/api/v1/screenings?wait=120&age_years=64&sex=F", png.read_bytes(),
                               {"Content-Type": "image/png", "X-Filename": "hand.png"})
    answer = json.loads(body)
    assert status == 200, answer
    result = answer["result"]
    assert answer["status"] == "complete" and result["class"] and result["probabilities"]
    assert {"jet", "report_pdf"} <= set(result["links"]) and answer["deliveries"] == []
