"""Outages are raised for a retry, never recorded as bad files; a batch whose task was lost is recovered.

The embedded runner stands in for Celery here: a step that raises an
infrastructure error is put back on the queue, as the task's autoretry does.
The same behaviour with real services is in tests/integration/pipeline/test_faults.py.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import select

from screening.accounts import get_hospital
from screening.db import Batch, BatchStatus, Report, session_scope
from screening.faults import BrokerUnavailable, is_infrastructure_error
from screening.local_runner import LocalRunner
from screening.model_registry import load_active_predictor
from screening.pipeline import INGEST, STEPS, NotYetQueued, PipelineContext, sweep
from screening.storage import StorageUnavailable, open_store
from tests.factories import write_phantom_archive


class FlakyStore:
    """The real store, except that reads (or writes) of keys under ``prefix`` fail while ``down`` is set."""

    def __init__(self, store, prefix: str, writes: bool = False) -> None:
        self._store, self.prefix, self.writes = store, prefix, writes
        self.down = threading.Event()
        self.refused = 0

    def _check(self, key: str) -> None:
        if self.down.is_set() and key.startswith(self.prefix):
            self.refused += 1
            raise StorageUnavailable("cannot reach the S3 endpoint http://10.1.2.3:9000 (bucket 'osteo-prod')")

    def get_bytes(self, key):
        self._check(key)
        return self._store.get_bytes(key)

    def put_bytes(self, key, data, content_type="application/octet-stream"):
        if self.writes:
            self._check(key)
        return self._store.put_bytes(key, data, content_type)

    def __getattr__(self, name):
        return getattr(self._store, name)


def _run_with_retries(runner: LocalRunner, stores: list[FlakyStore], batch_id: str, outage_steps: int) -> Batch:
    """Run the queue; an outage lasts for ``outage_steps`` failed attempts, each retried like autoretry."""
    failures = 0
    while runner.queue:
        name, args = runner.queue.popleft()
        try:
            STEPS[name](runner.ctx, *args)
        except Exception as exc:  # noqa: BLE001 - only outages may escape a step: asserted
            assert is_infrastructure_error(exc), exc
            failures += 1
            assert failures < 100, "an outage that never ends"
            if failures >= outage_steps:
                for store in stores:
                    store.down.clear()
            runner.queue.append((name, args))
    with session_scope(runner.ctx.database_url) as session:
        return session.get(Batch, batch_id)


def _runner(settings, store, reports: bool) -> LocalRunner:
    return LocalRunner(settings, store, lambda: load_active_predictor(settings), reports=reports)


def _hospital(settings):
    with session_scope(settings.database_url) as session:
        return get_hospital(session, "DH1")


def test_object_store_outage_during_screening_fails_no_image(embedded, tmp_path):
    store = FlakyStore(open_store(embedded), "images/")
    runner = _runner(embedded, store, reports=False)
    batch_id = runner.submit(_hospital(embedded), write_phantom_archive(tmp_path / "day.zip", 8, seed=41))
    store.down.set()
    batch = _run_with_retries(runner, [store], batch_id, outage_steps=3)
    assert store.refused > 0
    assert batch.status is BatchStatus.COMPLETE, batch.error
    assert (batch.screened, batch.failed) == (8, 0)


def test_object_store_outage_during_reports_fails_no_report(embedded, tmp_path):
    store = FlakyStore(open_store(embedded), "overlays/", writes=False)
    store_reports = FlakyStore(store, "reports/", writes=True)
    runner = _runner(embedded, store_reports, reports=True)
    batch_id = runner.submit(_hospital(embedded), write_phantom_archive(tmp_path / "day.zip", 4, seed=42))
    while runner.queue and runner.queue[0][0] != "osteo.render_report":
        name, args = runner.queue.popleft()
        STEPS[name](runner.ctx, *args)
    store.down.set()  # report pictures cannot be read...
    store_reports.down.set()  # ...and reports cannot be written
    batch = _run_with_retries(runner, [store, store_reports], batch_id, outage_steps=2)
    assert store.refused + store_reports.refused > 0
    assert batch.status is BatchStatus.COMPLETE, batch.error
    with session_scope(embedded.database_url) as session:
        reports = session.scalars(select(Report).where(Report.batch_id == batch_id)).all()
    assert reports and all(r.error is None and r.pdf_key for r in reports)
    assert batch.reported == batch.reports_total == len(reports)


def test_publish_failure_after_commit_is_recovered_by_the_sweep(embedded, tmp_path):
    def broker_down(name, args):
        raise redis.exceptions.ConnectionError("Error 111 connecting to 10.1.2.3:6379. Connection refused.")

    store = open_store(embedded)
    runner = _runner(embedded, store, reports=False)
    runner.ctx.enqueue = broker_down
    with pytest.raises(NotYetQueued) as raised:
        runner.submit(_hospital(embedded), write_phantom_archive(tmp_path / "day.zip", 3, seed=43))
    assert isinstance(raised.value, BrokerUnavailable)
    batch_id = raised.value.batch_id
    with session_scope(embedded.database_url) as session:
        assert session.get(Batch, batch_id).status is BatchStatus.QUEUED  # committed, not lost
    queued: list[tuple[str, tuple]] = []
    fresh = PipelineContext(settings=embedded, store=store, enqueue=lambda n, a: queued.append((n, a)))
    assert sweep(fresh) == []  # not stalled yet: its lease is fresh
    _age_lease(embedded, batch_id, seconds=embedded.stall_seconds + 1)  # time passes; nobody works on it
    assert sweep(fresh) == [batch_id]
    assert sweep(fresh) == []  # claimed: a second sweeper finds nothing
    assert queued == [(INGEST, (batch_id,))]
    runner.ctx.enqueue = lambda n, a: runner.queue.append((n, a))
    runner.queue.extend(queued)
    batch = runner.run(batch_id)
    assert batch.status is BatchStatus.COMPLETE and batch.screened == 3


def test_sweep_resumes_a_batch_stalled_in_screening(embedded, tmp_path):
    store = open_store(embedded)
    runner = _runner(embedded, store, reports=False)
    batch_id = runner.submit(_hospital(embedded), write_phantom_archive(tmp_path / "day.zip", 6, seed=44))
    name, args = runner.queue.popleft()
    STEPS[name](runner.ctx, *args)  # ingest; its chunk tasks are then lost with the broker
    runner.queue.clear()
    _age_lease(embedded, batch_id, seconds=embedded.stall_seconds + 1)
    assert sweep(runner.ctx) == [batch_id]
    batch = runner.run(batch_id)
    assert batch.status is BatchStatus.COMPLETE and batch.screened == 6


def _age_lease(settings, batch_id: str, seconds: int) -> None:
    with session_scope(settings.database_url) as session:
        batch = session.get(Batch, batch_id)
        batch.progress_at = datetime.now(UTC) - timedelta(seconds=seconds)
