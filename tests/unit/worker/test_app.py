"""The worker package: importing it has no side effects; every pipeline step has a queue."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from screening import pipeline
from tests.processes import REPO_ROOT
from worker.routing import QUEUES, SWEEP


def test_importing_the_worker_app_creates_nothing_on_disk(tmp_path: Path) -> None:
    env = {**os.environ, "OSTEO_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(REPO_ROOT)}
    env.pop("OSTEO_REDIS_URL", None)
    subprocess.run([sys.executable, "-c", "import worker.app, worker.tasks"], env=env, cwd=REPO_ROOT, check=True)
    assert not (tmp_path / "var").exists()


def test_publishing_creates_the_embedded_broker_folders_when_needed(tmp_path: Path) -> None:
    from screening.config import load_settings
    from worker.app import create_app
    from worker.routing import publisher

    settings = load_settings({"OSTEO_VAR_DIR": str(tmp_path / "var")})
    publisher(create_app(settings))(pipeline.INGEST, ("batch-id",))
    queued = list((tmp_path / "var" / "broker" / "queue").iterdir())
    assert len(queued) == 1  # the message waits in the filesystem transport's folder


def test_every_step_has_a_queue() -> None:
    assert set(pipeline.STEPS) | {SWEEP} == set(QUEUES)
    assert QUEUES[pipeline.SCREEN_CHUNK] == "inference"
    assert {QUEUES[pipeline.INGEST], QUEUES[pipeline.RENDER_REPORT]} <= {"ingest", "reports"}


def test_the_express_lane_has_queues_that_bulk_uploads_never_fill() -> None:
    from screening.pipeline.names import in_lane
    from worker.topology import SERVICES

    express = {QUEUES[in_lane(name, True)] for name in pipeline.BULK_STEPS}
    assert express == {"express", "inference-express"}
    assert not express & {QUEUES[name] for name in pipeline.BULK_STEPS}
    served = {name: set(command[command.index("-Q") + 1].split(",")) for name, command in SERVICES.items()
              if "-Q" in command}
    assert served["worker-express"] == {"express"}  # never busy with a bulk ingest
    assert all("inference-express" in served[name] for name in ("inference-gpu", "inference-cpu"))
