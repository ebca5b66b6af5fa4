"""A real PACS for tests: Debian's Orthanc (with its DICOMweb plugin) as a process on loopback.

Started with a temporary configuration (its own storage folder, free ports, no
authentication, HTTP from loopback only), and driven through its REST API the way
an integration engineer would: upload, look up, forward to a modality, list.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import free_port, require

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


class Orthanc:
    """One Orthanc server; ``modalities`` maps a name to (AE title, host, port) it may send to."""

    def __init__(self, folder: Path, modalities: dict[str, tuple[str, str, int]], aet: str = "ORTHANC") -> None:
        require(Path(ORTHANC).exists() and DICOMWEB_PLUGIN.exists(), "Debian's orthanc and orthanc-dicomweb")
        require(shutil.which("storescu") is not None, "dcmtk's storescu")
        self.folder, self.aet = folder, aet
        self.http_port, self.dicom_port = free_port(), free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.config = folder / "orthanc.json"
        self.config.write_text(json.dumps({
            "Name": "osteo-test-pacs", "StorageDirectory": str(folder / "db"), "IndexDirectory": str(folder / "db"),
            "HttpPort": self.http_port, "DicomPort": self.dicom_port, "DicomAet": aet,
            "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "DicomCheckCalledAet": False,
            "DicomAlwaysAllowStore": True, "DicomAlwaysAllowEcho": True, "DicomScpTimeout": 60,
            "DicomScuTimeout": 60,
            "DicomModalities": {name: list(node) for name, node in modalities.items()},
            "Plugins": [str(DICOMWEB_PLUGIN)], "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "StableAge": 2, "HttpTimeout": 60,
        }))
        self.log = folder / "orthanc.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([ORTHANC, str(self.config)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.get("/system")
                return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"Orthanc did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)
        self.process = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> bytes:
        request = urllib.request.Request(self.base + path, data=body, method=method, headers=headers or {})
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.read()

    def get(self, path: str) -> Any:
        return json.loads(self.request("GET", path))

    def post(self, path: str, payload: Any) -> Any:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        answer = self.request("POST", path, data)
        return json.loads(answer) if answer.strip() else None

    def storescu(self, *files: Path) -> None:
        """Send files with dcmtk's storescu, as a modality would."""
        result = subprocess.run(["storescu", "-aet", "MODALITY", "-aec", self.aet, "127.0.0.1",
                                 str(self.dicom_port), *map(str, files)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr

    def study_id(self, study_uid: str) -> str | None:
        found = [item for item in self.post("/tools/lookup", study_uid.encode()) if item["Type"] == "Study"]
        return found[0]["ID"] if found else None

    def instances(self, study_uid: str) -> list[dict[str, Any]]:
        """Every instance of the study with its main DICOM tags (empty when Orthanc does not have it)."""
        study = self.study_id(study_uid)
        return self.get(f"/studies/{study}/instances?expand") if study else []

    def tags(self, instance_id: str) -> dict[str, Any]:
        return self.get(f"/instances/{instance_id}/simplified-tags")

    def file(self, instance_id: str) -> bytes:
        return self.request("GET", f"/instances/{instance_id}/file")
