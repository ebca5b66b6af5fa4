"""Outages of S3, Redis and PostgreSQL while real Celery workers screen a batch: retried, never a bad file.

Each service sits behind something the test controls: the S3 server and
PostgreSQL behind loopback TCP proxies that refuse connections on demand, and a
private redis-server (append-only, like production) that the test stops and
starts. Each outage is held until the worker log shows a task retrying because
of it, and a few seconds more, so it truly covers the step under test. After
every outage the batch must end complete, with 0 images failed and every report.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from screening.accounts import add_hospital, get_hospital
from screening.config import Settings, load_settings
from screening.db import Batch, BatchStatus, Image, Report, schema, session_scope
from screening.pipeline import NotYetQueued, submit_batch
from screening.pipeline.status import FINAL
from screening.storage import S3ObjectStore
from tests.factories import make_tiny_bundle, write_phantom_archive
from tests.fixtures_s3 import TEST_CREDENTIALS
from tests.fixtures_services import temporary_database
from tests.processes import SupervisedService, wait_for
from tests.proxy import PrivateRedis, TcpProxy
from worker.app import create_app
from worker.routing import publisher
from worker.topology import celery_worker_command

pytestmark = pytest.mark.integration

OUTAGE_EXTRA_S = 4  # how long an outage lasts after the first retry it caused
IMAGES = 8


class Stack:
    """A deployment on this machine whose S3, PostgreSQL and Redis the test can take down."""

    def __init__(self, settings: Settings, env: dict[str, str], s3: TcpProxy, pg: TcpProxy, redis: PrivateRedis,
                 store: S3ObjectStore, worker: SupervisedService) -> None:
        self.settings, self.env, self.s3, self.pg, self.redis = settings, env, s3, pg, redis
        self.store, self.worker = store, worker

    def submit(self, archive: Path) -> str:
        with session_scope(self.settings.database_url) as session, archive.open("rb") as stream:
            return submit_batch(session, self.store, publisher(create_app(self.settings)),
                                get_hospital(session, "DH1"), stream, archive.name).batch.id

    def batch(self, batch_id: str) -> Batch:
        with session_scope(self.settings.database_url) as session:
            return session.get(Batch, batch_id)

    def retries(self, task: str) -> int:
        return len(re.findall(rf"Task {re.escape(task)}\[[^\]]+\] retry:", self.worker.log.read_text(errors="replace")))

    def hold_outage_until_retried(self, task: str, restore: Callable[[], None]) -> None:
        """The service is down: wait for ``task`` to retry because of it, keep it down a little longer, restore."""
        before = self.retries(task)
        try:
            wait_for(lambda: self.retries(task) > before, 60, f"{task} to retry during the outage", 0.2)
            time.sleep(OUTAGE_EXTRA_S)  # the outage goes on: an event in the world, not a timing assertion
        finally:
            restore()

    def assert_complete(self, batch_id: str) -> None:
        wait_for(lambda: self.batch(batch_id).status in FINAL, 150, "the batch to finish")
        batch = self.batch(batch_id)
        assert batch.status is BatchStatus.COMPLETE, (batch.status, batch.error, self.worker.tail())
        assert (batch.screened, batch.failed) == (IMAGES, 0)
        with session_scope(self.settings.database_url) as session:
            reports = session.scalars(select(Report).where(Report.batch_id == batch_id)).all()
            patients = len(set(session.scalars(select(Image.patient_id).where(Image.batch_id == batch_id))))
            errors = [i.error for i in session.scalars(select(Image).where(Image.batch_id == batch_id)) if i.error]
        assert errors == []
        assert len(reports) == patients == batch.reported and all(r.error is None for r in reports)
        assert all(self.store.exists(r.pdf_key) for r in reports)
        for text in filter(None, [batch.error, *(r.error for r in reports)]):
            assert self.s3.address not in text and self.store.bucket not in text


@pytest.fixture(scope="module")
def stack(s3_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("faults")
    s3_host, s3_port = s3_server.rsplit("//", 1)[1].split(":")
    s3 = TcpProxy(s3_host, int(s3_port))
    pg = TcpProxy("127.0.0.1", 5432)
    redis = PrivateRedis(root / "redis")
    with temporary_database() as direct_url:
        database_url = direct_url.replace("127.0.0.1:5432", pg.address)
        env = {
            "OSTEO_VAR_DIR": str(root / "var"),
            "OSTEO_DATABASE_URL": database_url,
            "OSTEO_REDIS_URL": redis.url,
            "OSTEO_STORAGE_BACKEND": "s3",
            "OSTEO_S3_ENDPOINT_URL": f"http://{s3.address}",
            "OSTEO_S3_BUCKET": "faults",
            "OSTEO_S3_ACCESS_KEY": TEST_CREDENTIALS["access_key"],
            "OSTEO_S3_SECRET_KEY": TEST_CREDENTIALS["secret_key"],
            "OSTEO_MODEL_BUNDLE": str(make_tiny_bundle(root / "bundle")),
            "OSTEO_CHUNK_SIZE": "2",
            "OSTEO_BROKER_VISIBILITY_TIMEOUT": "8",
            "OSTEO_STALL_SECONDS": "12",
            "OSTEO_SWEEP_INTERVAL_SECONDS": "2",
        }
        settings = load_settings(env)
        schema.upgrade(settings.database_url)
        with session_scope(settings.database_url) as session:
            add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
        store = S3ObjectStore("faults", endpoint_url=f"http://{s3.address}", **TEST_CREDENTIALS)
        store.ensure_bucket()
        worker = SupervisedService(celery_worker_command("ingest,inference,reports", "faults", concurrency=2),
                                   env, root / "worker.log")
        try:
            yield Stack(settings, env, s3, pg, redis, store, worker)
        finally:
            worker.stop()
            redis.stop()
            s3.close()
            pg.close()


def _archive(tmp_path: Path, seed: int) -> Path:
    return write_phantom_archive(tmp_path / f"day{seed}.zip", IMAGES, seed=seed)


def _wait_status(stack: Stack, batch_id: str, status: BatchStatus) -> None:
    wait_for(lambda: stack.batch(batch_id).status is status, 120, f"the batch to reach {status.value}", 0.05)


def test_s3_refusing_connections_during_screening_and_reports(stack: Stack, tmp_path: Path) -> None:
    batch_id = stack.submit(_archive(tmp_path, 51))
    _wait_status(stack, batch_id, BatchStatus.SCREENING)
    stack.s3.refuse()
    stack.hold_outage_until_retried("osteo.screen_chunk", stack.s3.accept)
    _wait_status(stack, batch_id, BatchStatus.REPORTING)
    stack.s3.refuse()
    stack.hold_outage_until_retried("osteo.render_report", stack.s3.accept)
    stack.assert_complete(batch_id)


def test_postgresql_unreachable_during_screening(stack: Stack, tmp_path: Path) -> None:
    batch_id = stack.submit(_archive(tmp_path, 52))
    _wait_status(stack, batch_id, BatchStatus.SCREENING)
    stack.pg.refuse()
    stack.hold_outage_until_retried("osteo.screen_chunk", stack.pg.accept)
    stack.assert_complete(batch_id)


def test_redis_down_during_screening(stack: Stack, tmp_path: Path) -> None:
    batch_id = stack.submit(_archive(tmp_path, 53))
    _wait_status(stack, batch_id, BatchStatus.SCREENING)
    stack.redis.stop()
    wait_for(lambda: "Connection to broker lost" in stack.worker.log.read_text(errors="replace"), 60,
             "the worker to notice the broker is gone", 0.2)
    time.sleep(OUTAGE_EXTRA_S)  # the outage goes on
    stack.redis.start()
    stack.assert_complete(batch_id)


def test_publish_failure_after_commit_is_recovered_by_the_sweep(stack: Stack, tmp_path: Path) -> None:
    archive = _archive(tmp_path, 54)
    stack.redis.stop()
    try:
        with pytest.raises(NotYetQueued) as raised:
            stack.submit(archive)
    finally:
        stack.redis.start()
    batch_id = raised.value.batch_id
    assert stack.batch(batch_id).status is BatchStatus.QUEUED  # committed: the upload was accepted
    stack.assert_complete(batch_id)
    assert f"batch={batch_id} stalled in queued" in stack.worker.log.read_text(errors="replace")
