"""Running a batch's tasks in this process, without a broker (the embedded default).

The same pipeline steps that Celery workers run are taken from an in-process
queue in the order they were enqueued, so ``osteo screen`` exercises exactly the
production code path on one machine with no servers.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from screening.config import Settings
from screening.db.models import Batch
from screening.db.session import session_scope
from screening.pipeline import INGEST, STEPS, PipelineContext
from screening.storage import ObjectStore

Progress = Callable[[Batch], None]


def run_batch(settings: Settings, store: ObjectStore, batch_id: str, load_predictor: Callable,
              progress: Progress | None = None, reports: bool = True) -> Batch:
    """Run every step of ``batch_id`` to completion; returns the final batch row."""
    queue: deque[tuple[str, tuple]] = deque([(INGEST, (batch_id,))])
    ctx = PipelineContext(settings=settings, store=store, enqueue=lambda name, args: queue.append((name, args)),
                          load_predictor=load_predictor, reports_enabled=reports)
    while queue:
        name, args = queue.popleft()
        STEPS[name](ctx, *args)
        if progress is not None:
            progress(_batch(settings, batch_id))
    return _batch(settings, batch_id)


def _batch(settings: Settings, batch_id: str) -> Batch:
    with session_scope(settings.database_url) as session:
        return session.get(Batch, batch_id)
