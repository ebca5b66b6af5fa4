"""Running a batch's tasks in this process, without a broker (the embedded default of ``osteo screen``).

The same pipeline steps that Celery workers run are taken from an in-process
queue in the order they were enqueued, so ``osteo screen`` exercises exactly the
production code path on one machine with no servers. The batch is submitted the
way every path submits one (:func:`screening.pipeline.submit_batch`): store,
commit, enqueue, here into the local queue.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

from screening.config import Settings
from screening.db.models import Batch, Hospital
from screening.db.session import session_scope
from screening.pipeline import STEPS, PipelineContext, submit_batch
from screening.storage import ObjectStore

Progress = Callable[[Batch], None]


class LocalRunner:
    """An in-process queue and the context the steps share."""

    def __init__(self, settings: Settings, store: ObjectStore, load_predictor: Callable | None,
                 reports: bool = True) -> None:
        self.queue: deque[tuple[str, tuple]] = deque()
        self.ctx = PipelineContext(settings=settings, store=store,
                                   enqueue=lambda name, args: self.queue.append((name, args)),
                                   load_predictor=load_predictor, reports_enabled=reports)

    def submit(self, hospital: Hospital, archive: Path) -> str:
        """Store, commit and enqueue the archive's batch; returns its id."""
        with archive.open("rb") as stream:
            return self.submit_stream(hospital, stream, archive.name)

    def submit_stream(self, hospital: Hospital, stream: IO[bytes], filename: str) -> str:
        """Store, commit and enqueue a batch from an open archive stream; returns its id."""
        with session_scope(self.ctx.database_url) as session:
            hospital = session.merge(hospital)
            return submit_batch(session, self.ctx.store, self.ctx.enqueue, hospital, stream, filename).batch.id

    def run(self, batch_id: str, progress: Progress | None = None) -> Batch:
        """Run every queued step to completion; returns the final batch row."""
        while self.queue:
            name, args = self.queue.popleft()
            STEPS[name](self.ctx, *args)
            if progress is not None:
                progress(_batch(self.ctx.settings, batch_id))
        return _batch(self.ctx.settings, batch_id)


def screen_locally(settings: Settings, store: ObjectStore, hospital: Hospital, archive: Path,
                   load_predictor: Callable | None, progress: Progress | None = None, reports: bool = True) -> Batch:
    """Submit ``archive`` and run its batch to its final state in this process."""
    runner = LocalRunner(settings, store, load_predictor, reports)
    batch_id = runner.submit(hospital, archive)
    return runner.run(batch_id, progress)


def _batch(settings: Settings, batch_id: str) -> Batch:
    with session_scope(settings.database_url) as session:
        return session.get_one(Batch, batch_id)
