"""Publishing the recovery sweep periodically from each worker, with no beat process to deploy.

When a worker is ready, a daemon thread in its main process publishes the
``osteo.sweep`` task every OSTEO_SWEEP_INTERVAL_SECONDS; a pool process runs it
(so no database connection is ever opened in the parent before a fork). Several
workers may publish: the sweep claims each stalled batch with a conditional
update, so duplicates cost one cheap query. Works the same on the embedded
filesystem transport and on Redis; a publish during a broker outage is skipped.
"""

from __future__ import annotations

import logging
import threading

from celery import Celery, signals

logger = logging.getLogger(__name__)


def install(app: Celery, task_name: str, queue: str) -> None:
    """Start the periodic publisher in every worker of ``app`` once it is ready."""

    def start(sender: object = None, **_: object) -> None:
        interval = app.conf.osteo_settings.sweep_interval_seconds
        if interval <= 0:
            return
        stop = threading.Event()

        def run() -> None:
            while not stop.wait(interval):
                try:
                    app.send_task(task_name, queue=queue)
                except Exception as exc:  # noqa: BLE001 - the broker is down: the next tick tries again
                    logger.warning("recovery sweep not published: %s", type(exc).__name__)

        threading.Thread(target=run, name="osteo-sweep", daemon=True).start()
        signals.worker_shutdown.connect(lambda **_: stop.set(), weak=False)

    signals.worker_ready.connect(start, weak=False)
