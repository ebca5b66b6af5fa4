"""Thin Celery tasks: ids in, one call into ``screening.pipeline``, nothing else.

Transient failures (database, object store, broker) are retried with backoff;
bad input never raises here because the pipeline records it per file. The model
is loaded lazily, once per worker process, in the process that uses it: never in
the parent before the fork, which TensorFlow does not survive.
"""

from __future__ import annotations

from functools import lru_cache

from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from screening import pipeline
from screening.db.session import DatabaseUnavailable
from screening.model_registry import load_active_predictor
from screening.storage import StorageUnavailable, open_store
from worker.app import app, enqueue

TRANSIENT = (DatabaseError, DatabaseUnavailable, StorageUnavailable, BrokerError, ConnectionError)
COMMON = dict(bind=True, acks_late=True, autoretry_for=TRANSIENT, retry_backoff=2, retry_backoff_max=120,
              retry_jitter=True, max_retries=8)


@lru_cache(maxsize=1)
def context() -> pipeline.PipelineContext:
    """One pipeline context per worker process (the model inside it loads on first use)."""
    settings = app.conf.osteo_settings
    return pipeline.PipelineContext(settings=settings, store=open_store(settings), enqueue=enqueue,
                                    load_predictor=lambda: load_active_predictor(settings),
                                    reports_enabled=settings.reports_enabled)


@app.task(name=pipeline.INGEST, soft_time_limit=3300, time_limit=3600, **COMMON)
def ingest(self, batch_id: str) -> None:  # type: ignore[no-untyped-def]
    pipeline.ingest(context(), batch_id)


@app.task(name=pipeline.SCREEN_CHUNK, soft_time_limit=600, time_limit=660, **COMMON)
def screen_chunk(self, batch_id: str, image_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    pipeline.screen_chunk(context(), batch_id, image_ids)


@app.task(name=pipeline.RENDER_REPORT, soft_time_limit=300, time_limit=330, **COMMON)
def render_report(self, patient_id: int, batch_id: str) -> None:  # type: ignore[no-untyped-def]
    pipeline.render_report(context(), patient_id, batch_id)


@app.task(name=pipeline.FINALIZE, soft_time_limit=300, time_limit=330, **COMMON)
def finalize(self, batch_id: str) -> None:  # type: ignore[no-untyped-def]
    pipeline.finalize(context(), batch_id)
