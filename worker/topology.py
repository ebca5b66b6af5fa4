"""The processes a deployment runs, as command lines: the single source of truth.

docker-compose.yml runs exactly these commands (a test checks it), and the
end-to-end test and the benchmarks start the same commands as plain processes,
so what is tested is what is deployed.
"""

from __future__ import annotations

import sys
from pathlib import Path

WEB_PORT = 8000


# Every queue, for a single worker that does everything (the demo): see worker/routing.py.
ALL_QUEUES = "express,inference-express,ingest,inference,reports"


def celery_worker(queues: str, name: str, concurrency: int = 1) -> list[str]:
    """A Celery worker for ``queues`` (comma-separated; worker/routing.py names them)."""
    return ["celery", "-A", "worker.app", "worker", "-Q", queues, "-n", f"{name}@%h",
            "--concurrency", str(concurrency), "--prefetch-multiplier", "1",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO"]


def web_server(port: int = WEB_PORT, workers: int = 2) -> list[str]:
    return ["gunicorn", "--bind", f"0.0.0.0:{port}", "--workers", str(workers), "--timeout", "300",
            "web:create_app()"]


# docker compose service name -> command
SERVICES: dict[str, list[str]] = {
    "migrate": ["osteo", "init"],
    "web": web_server(),
    "worker": celery_worker("ingest,reports", "cpu", concurrency=2),
    # The express lane's CPU steps (one-study calls, PACS studies): never behind a long archive ingest.
    "worker-express": celery_worker("express", "express"),
    # The DICOM listener (C-STORE SCP): PACS and modalities send studies here (OSTEO_DICOM_PORT).
    "dicom-listener": ["osteo", "dicom", "listen"],
    "inference-gpu": celery_worker("inference-express,inference", "gpu"),
    "inference-cpu": celery_worker("inference-express,inference", "cpuinfer"),
}


def local_command(command: list[str], bin_dir: Path = Path(sys.executable).parent) -> list[str]:
    """The same command with its program taken from this environment's bin directory."""
    return [str(bin_dir / command[0]), *command[1:]]


def celery_worker_command(queues: str, name: str, concurrency: int = 1) -> list[str]:
    """A worker command runnable from this environment (tests and benchmarks)."""
    return local_command(celery_worker(queues, name, concurrency))
