"""The recovery sweep on the embedded default: a Celery worker on the filesystem transport, SQLite, a local store.

No servers: the same worker command as production, with the broker folder under
``var/``. A batch whose ingest was never published (the publish failed after
the commit) is found by the sweep the worker publishes for itself, and screened.
"""

from __future__ import annotations

import pytest
import redis

from screening.accounts import add_hospital, get_hospital
from screening.config import load_settings
from screening.db import Batch, BatchStatus, schema, session_scope
from screening.pipeline import NotYetQueued, submit_batch
from screening.pipeline.status import FINAL
from screening.storage import open_store
from tests.factories import make_tiny_bundle, write_phantom_archive
from tests.processes import Service, wait_for
from worker.topology import celery_worker_command


def test_sweep_recovers_an_unpublished_batch_without_any_server(tmp_path):
    env = {"OSTEO_VAR_DIR": str(tmp_path / "var"), "OSTEO_MODEL_BUNDLE": str(make_tiny_bundle(tmp_path / "b")),
           "OSTEO_CHUNK_SIZE": "4", "OSTEO_STALL_SECONDS": "3", "OSTEO_SWEEP_INTERVAL_SECONDS": "1",
           "OSTEO_REPORTS_ENABLED": "false", "OSTEO_REDIS_URL": ""}
    settings = load_settings(env)
    assert settings.embedded_broker
    schema.upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        add_hospital(session, "DH1", "District Hospital One", "North", "Coast")

    def broker_down(name: str, args: tuple) -> None:
        raise redis.exceptions.ConnectionError("the broker is down")

    archive = write_phantom_archive(tmp_path / "day.zip", 3, seed=61)
    with pytest.raises(NotYetQueued) as raised:
        with session_scope(settings.database_url) as session, archive.open("rb") as stream:
            submit_batch(session, open_store(settings), broker_down, get_hospital(session, "DH1"), stream,
                         archive.name)
    batch_id = raised.value.batch_id
    worker = Service(celery_worker_command("ingest,inference,reports", "embedded"), env, tmp_path / "worker.log")
    try:
        def status() -> BatchStatus:
            with session_scope(settings.database_url) as session:
                return session.get_one(Batch, batch_id).status

        wait_for(lambda: status() in FINAL, 180, "the sweep to recover the batch")
        with session_scope(settings.database_url) as session:
            batch = session.get_one(Batch, batch_id)
        assert batch.status is BatchStatus.COMPLETE, (batch.error, worker.tail())
        assert batch.screened == 3
        assert f"batch={batch_id} stalled in queued" in worker.log.read_text(errors="replace")
    finally:
        worker.stop()
