"""Thin Celery tasks: ids in, one call into ``screening.pipeline``, nothing else.

Infrastructure failures (database, object store, broker: the list in
:mod:`screening.faults`) are retried with backoff; bad input never raises here
because the pipeline records it per file. A task that fails for good logs why.
The model is loaded lazily, once per worker process, in the process that uses
it: never in the parent before the fork, which TensorFlow does not survive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from celery import signals
from kombu.exceptions import OperationalError as BrokerError

from screening import pipeline
from screening.faults import INFRASTRUCTURE_ERRORS
from screening.model_registry import load_active_predictor
from screening.pipeline.names import in_lane
from screening.storage import open_store
from worker import sweeper
from worker.app import app, enqueue
from worker.routing import QUEUES, SWEEP

logger = logging.getLogger(__name__)

TRANSIENT = (*INFRASTRUCTURE_ERRORS, BrokerError)
# Backoff 2, 4, 8, 16, 32, 60, 60 … s: twelve tries cover an outage of about eight minutes.
COMMON = {"bind": True, "acks_late": True, "autoretry_for": TRANSIENT, "retry_backoff": 2,
          "retry_backoff_max": 60, "retry_jitter": False, "max_retries": 12}


@lru_cache(maxsize=1)
def context() -> pipeline.PipelineContext:
    """One pipeline context per worker process (the model inside it loads on first use)."""
    settings = app.conf.osteo_settings
    return pipeline.PipelineContext(settings=settings, store=open_store(settings), enqueue=enqueue,
                                    load_predictor=lambda: load_active_predictor(settings),
                                    reports_enabled=settings.reports_enabled)


# (soft, hard) time limits in seconds per step; the express lane's tasks have the same.
LIMITS = {pipeline.INGEST: (3300, 3600), pipeline.SCREEN_CHUNK: (600, 660), pipeline.RENDER_REPORT: (300, 330),
          pipeline.FINALIZE: (300, 330)}


def _register(name: str, step: Callable[..., None]) -> None:
    """One thin task: ids in, ``step(context(), *ids)``."""
    soft, hard = LIMITS[name]

    def run(self, *args: Any) -> None:  # type: ignore[no-untyped-def]
        step(context(), *args)

    run.__name__ = run.__qualname__ = name.rsplit(".", 1)[-1]
    for express in (False, True):
        app.task(name=in_lane(name, express), soft_time_limit=soft, time_limit=hard, **COMMON)(run)


for _name, _step in pipeline.BULK_STEPS.items():
    _register(_name, _step)


@app.task(name=pipeline.DELIVER, soft_time_limit=600, time_limit=660, **COMMON)
def deliver(self, delivery_id: int) -> None:  # type: ignore[no-untyped-def]
    """Results of one batch to one destination; its own tries and backoff live in the pipeline step."""
    pipeline.deliver(context(), delivery_id)


@app.task(name=SWEEP, soft_time_limit=120, time_limit=150, bind=True, acks_late=True, ignore_result=True)
def sweep(self) -> None:  # type: ignore[no-untyped-def]
    """Re-enqueue stalled batches (published periodically by :mod:`worker.sweeper`)."""
    recovered = pipeline.sweep(context())
    if recovered:
        logger.warning("recovery sweep re-enqueued batches %s", recovered)


@signals.task_failure.connect
def _log_failure(sender: object = None, task_id: str | None = None, exception: BaseException | None = None,
                 args: object = None, **_: object) -> None:
    """A task that gave up says which step, which ids and why, in one line of the worker log."""
    name = getattr(sender, "name", sender)
    logger.error("task=%s id=%s args=%s failed for good: %s: %s", name, task_id, args,
                 type(exception).__name__, exception)


sweeper.install(app, SWEEP, QUEUES[SWEEP])
