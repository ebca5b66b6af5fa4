"""The steps of a batch, callable without Celery.

    submit_batch → ingest → screen_chunk × N → render_report × patients → finalize → deliver × destinations
                                    recovery.sweep (periodic) re-enqueues stalled batches and due deliveries

Each step is published under its bulk name or its express-lane name
(:mod:`screening.pipeline.names`); both run the same function.

One module per step. Each step takes ids, reads what it needs from the database
and object store, writes idempotently (stable object keys, unique rows,
recounted counters in :mod:`screening.rollups`), and hands the next steps to
``ctx.enqueue(task_name, args)``: Celery's ``send_task`` in production (routed
to queues by ``worker/routing.py``), an in-process queue in the embedded runner.
A step that runs twice (a killed worker's task redelivered) changes nothing the
second time. Status moves only in :mod:`screening.pipeline.status`, through
conditional updates. Bad input fails a file; an outage is raised for the task's
retry (:mod:`screening.faults`); every batch reaches a final state.
"""

from __future__ import annotations

from collections.abc import Callable

from screening.pipeline.context import Enqueue, PipelineContext
from screening.pipeline.deliver import deliver
from screening.pipeline.finalize import finalize
from screening.pipeline.ingest import ingest
from screening.pipeline.names import DELIVER, FINALIZE, INGEST, RENDER_REPORT, SCREEN_CHUNK, in_lane
from screening.pipeline.recovery import sweep
from screening.pipeline.report import render_report
from screening.pipeline.screen import screen_chunk
from screening.pipeline.submit import (
    EmptyUpload,
    IdempotencyConflict,
    NotYetQueued,
    Submission,
    submit_batch,
)

BULK_STEPS: dict[str, Callable[..., None]] = {
    INGEST: ingest, SCREEN_CHUNK: screen_chunk, RENDER_REPORT: render_report, FINALIZE: finalize,
}
# Every task name, bulk and express, with the function it runs.
STEPS: dict[str, Callable[..., None]] = {
    **{in_lane(name, express): step for name, step in BULK_STEPS.items() for express in (False, True)},
    DELIVER: deliver}

__all__ = [
    "BULK_STEPS", "DELIVER", "FINALIZE", "INGEST", "RENDER_REPORT", "SCREEN_CHUNK", "STEPS", "EmptyUpload", "Enqueue",
    "IdempotencyConflict", "NotYetQueued", "PipelineContext", "Submission", "deliver", "finalize", "ingest",
    "render_report", "screen_chunk", "submit_batch", "sweep",
]
