"""Orthanc and the product's own processes wired together, for the PACS end-to-end test and bench/pacs.py.

The processes are the ones docker compose runs (worker/topology.py): web, the bulk and
express workers, a CPU inference worker and the DICOM listener, on a PostgreSQL
database and a Redis database given by the caller. Orthanc forwards to the listener
(modality ``osteo``) and is both result destinations of hospital DH-PACS: by C-STORE
and by STOW-RS.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from pydicom.uid import generate_uid

from tests.conftest import free_port
from tests.factories import make_tiny_bundle, phantom_dicom, phantom_png
from tests.orthanc import Orthanc
from tests.processes import REPO_ROOT, Service, wait_for
from worker.topology import SERVICES, local_command, web_server


def osteo(env: dict[str, str], *args: str) -> str:
    inherited = {key: os.environ[key] for key in ("PYTHONPATH",) if key in os.environ}
    result = subprocess.run(local_command(["osteo", *args]), env={**inherited, **env}, cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


class Api:
    """A bearer-token HTTP client of the product's API."""

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


@dataclass
class Systems:
    orthanc: Orthanc
    api: Api
    env: dict[str, str]
    services: list[Service]

    def batch_ids(self) -> set[str]:
        return {b["id"] for b in self.api.json("/api/v1/batches?limit=500")["items"]}

    def delivered(self, before: set[str], timeout: float) -> dict[str, Any]:
        """The new batch (not in ``before``) once every destination has its results; with ``deliveries``."""
        deadline = time.monotonic() + timeout
        while True:
            for batch_id in self.batch_ids() - before:
                batch = self.api.json(f"/api/v1/batches/{batch_id}")
                states = {d["state"] for d in batch["deliveries"]}
                if batch["finished"] and len(batch["deliveries"]) == 2 and states == {"sent"}:
                    return batch
                assert "failed" not in states, batch["deliveries"]
            assert time.monotonic() < deadline, ("results were not delivered", [s.tail(30) for s in self.services])
            time.sleep(0.5)

    def expected_results(self, batch: dict[str, Any]) -> int:
        """Objects the batch sends back: an SR and a Grad-CAM capture per screened image, a capture of the
        measurement per measured hand, one PDF per patient."""
        items = self.api.json(batch["links"]["results"] + "?limit=500")["items"]
        screened = [item for item in items if item["class"]]
        return 2 * len(screened) + sum(1 for item in screened if item["measured"]) + len(
            {item["patient"] for item in screened})


@contextmanager
def hospital_systems(database_url: str, redis_url: str, folder: Path) -> Iterator[Systems]:
    redis.Redis.from_url(redis_url).flushdb()
    port, listener_port = free_port(), free_port()
    env = {
        "PATH": str(Path(local_command(["osteo"])[0]).parent) + ":/usr/bin:/bin",
        "OSTEO_VAR_DIR": str(folder / "var"), "OSTEO_DATABASE_URL": database_url, "OSTEO_REDIS_URL": redis_url,
        "OSTEO_STORAGE_DIR": str(folder / "objects"),
        "OSTEO_MODEL_BUNDLE": str(make_tiny_bundle(folder / "bundle")),
        "OSTEO_CHUNK_SIZE": "16", "OSTEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "OSTEO_DICOM_PORT": str(listener_port), "OSTEO_DICOM_STABLE_SECONDS": "2", "OSTEO_DICOM_TIMEOUT_SECONDS": "10",
        "OSTEO_DELIVERY_ATTEMPTS": "3", "OSTEO_DELIVERY_BACKOFF_SECONDS": "1", "OSTEO_SWEEP_INTERVAL_SECONDS": "1",
    }
    orthanc = Orthanc(folder / "orthanc", {"osteo": ("OSTEOAI", "127.0.0.1", listener_port)})
    services: list[Service] = []
    try:
        osteo(env, *SERVICES["migrate"][1:])
        osteo(env, "hospital", "add", "DH-PACS", "--name", "PACS Hospital", "--district", "North", "--region", "Coast")
        osteo(env, "user", "add", "ris@dh-pacs.org", "--role", "staff", "--hospital", "DH-PACS",
              "--password", "s3cret-pass")
        token = osteo(env, "token", "create", "ris@dh-pacs.org", "--name", "ris").strip().splitlines()[0]
        osteo(env, "dicom", "ae-add", "DH-PACS", orthanc.aet)
        osteo(env, "dicom", "destination-add", "DH-PACS", "orthanc-dimse", "--host", "127.0.0.1",
              "--port", str(orthanc.dicom_port), "--ae-title", orthanc.aet)
        osteo(env, "dicom", "destination-add", "DH-PACS", "orthanc-web", "--url", f"{orthanc.base}/dicom-web")
        services.append(Service(local_command(web_server(port)), env, folder / "web.log"))
        for name in ("worker", "worker-express", "inference-cpu", "dicom-listener"):
            services.append(Service(local_command(SERVICES[name]), env, folder / f"{name}.log"))
        wait_for(lambda: _up(f"http://127.0.0.1:{port}/healthz"), 90, "gunicorn to answer /healthz")
        yield Systems(orthanc, Api(f"http://127.0.0.1:{port}", token), env, services)
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


def hand_study(folder: Path, count: int, seed: int, patient_id: str) -> tuple[str, list[Path]]:
    """A hand study of ``count`` phantom images as DICOM files (one patient, one study, one series)."""
    study_uid, series_uid, files = generate_uid(), generate_uid(), []
    for number in range(1, count + 1):
        png, _ = phantom_png(folder / f"src-{seed}-{number}", seed=seed * 1000 + number)
        path = folder / f"{seed}-{number}.dcm"
        path.write_bytes(phantom_dicom(png, patient_id=patient_id, age_years=68, sex="F", study_uid=study_uid,
                                       series_uid=series_uid, instance=number, accession=f"ACC-{seed}"))
        files.append(path)
    return study_uid, files
