"""Queue routing: which queue carries each pipeline step, and publishing a step by name.

One queue per workload (redash's rule): ``ingest`` and ``reports`` on CPU
workers, ``inference`` on the machines with the model. The express lane (one-study
calls, PACS studies) has its own two queues: ``express`` for its CPU steps, served
by a worker of its own so a long archive ingest never holds it up, and
``inference-express``, which every inference worker serves beside ``inference`` (a
study waits at most for the chunk in progress, never for a whole bulk upload).
Results going back to hospital destinations (``osteo.deliver``) use ``express`` too. The web process
publishes by task name through :func:`publisher`, never importing task code. A
publish that fails because the broker is down raises
:class:`screening.faults.BrokerUnavailable`, which the API answers with 503.
"""

from __future__ import annotations

import logging

from celery import Celery
from kombu.exceptions import OperationalError as KombuOperationalError

from screening.faults import BrokerUnavailable, is_infrastructure_error
from screening.pipeline import DELIVER, FINALIZE, INGEST, RENDER_REPORT, SCREEN_CHUNK, Enqueue
from screening.pipeline.names import in_lane

logger = logging.getLogger(__name__)

SWEEP = "osteo.sweep"
BULK_QUEUES = {INGEST: "ingest", SCREEN_CHUNK: "inference", RENDER_REPORT: "reports", FINALIZE: "reports"}
EXPRESS_QUEUES = {INGEST: "express", SCREEN_CHUNK: "inference-express", RENDER_REPORT: "express",
                  FINALIZE: "express"}
QUEUES = {**BULK_QUEUES, **{in_lane(name, True): queue for name, queue in EXPRESS_QUEUES.items()},
          DELIVER: "express", SWEEP: "ingest"}


def publisher(app: Celery) -> Enqueue:
    """``enqueue(name, args)`` sending through ``app`` to the step's queue."""

    def enqueue(name: str, args: tuple) -> None:
        from worker.app import ensure_broker_folders

        ensure_broker_folders(app.conf.osteo_settings)
        try:
            app.send_task(name, args=list(args), queue=QUEUES[name])
        except Exception as exc:
            if isinstance(exc, KombuOperationalError) or is_infrastructure_error(exc):
                logger.warning("task=%s not published: %s", name, type(exc).__name__)
                raise BrokerUnavailable(f"the task queue is unavailable ({type(exc).__name__})") from exc
            raise

    return enqueue
