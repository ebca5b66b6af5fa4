"""The processes a deployment runs, as command lines.

docker-compose.yml, the end-to-end tests and the benchmarks all start the same
commands, so what is tested is what is deployed.
"""

from __future__ import annotations

import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def celery_worker_command(queues: str, name: str, concurrency: int = 1, bin_dir: Path = BIN) -> list[str]:
    """A Celery worker for ``queues`` (comma-separated: ingest, inference, reports)."""
    return [str(bin_dir / "celery"), "-A", "worker.app", "worker", "-Q", queues, "-n", f"{name}@%h",
            "--concurrency", str(concurrency), "--prefetch-multiplier", "1",
            "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
