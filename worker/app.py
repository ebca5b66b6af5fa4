"""The Celery application: broker, queues and delivery guarantees, from the settings.

With ``OSTEO_REDIS_URL`` set, Redis is the broker. Without it (the embedded
default) Celery's filesystem transport under ``var/broker`` carries the tasks,
so a web process and a worker on one machine need no server at all.

Delivery: ``acks_late`` + ``reject_on_worker_lost`` + prefetch 1, so a task whose
worker dies is delivered again (the pipeline's steps are idempotent), and a
worker never hoards tasks it has not started.

Importing this module has no side effects beyond reading the settings: the
broker folders of the embedded transport are created when a worker starts or a
task is first published, and the recovery sweep starts with a worker that
serves the ``ingest`` queue (see :mod:`worker.sweeper`).
"""

from __future__ import annotations

from pathlib import Path

from celery import Celery, signals

from screening.config import Settings, load_settings
from worker.routing import QUEUES, publisher


def _broker_folder(settings: Settings) -> Path:
    return Path(settings.var_dir).resolve() / "broker"


def broker_options(settings: Settings) -> tuple[str, dict]:
    if settings.redis_url:
        timeout = settings.broker_visibility_timeout
        # Kombu sweeps for abandoned tasks every interval × throttle seconds (100 s by default);
        # a short visibility timeout is only useful with a sweep that is short too.
        return settings.redis_url, {"visibility_timeout": timeout,
                                    "unacked_restore_interval": min(10, max(1, timeout // 8)),
                                    "unacked_restore_throttle": 1 if timeout < 300 else 10}
    folder = _broker_folder(settings)
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        # The filesystem transport polls its folder; the default 1 s per message would add
        # a second to every report task of a batch.
        "polling_interval": 0.05,
    }


def ensure_broker_folders(settings: Settings) -> None:
    """Create the embedded transport's folders (nothing to do with Redis)."""
    if settings.redis_url:
        return
    for sub in ("queue", "processed"):
        (_broker_folder(settings) / sub).mkdir(parents=True, exist_ok=True)


def create_app(settings: Settings | None = None) -> Celery:
    """A Celery app for ``settings``; creates nothing on disk and connects to nothing."""
    settings = settings or load_settings()
    broker, transport_options = broker_options(settings)
    app = Celery("osteo", broker=broker, include=["worker.tasks"])
    app.conf.update(
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,  # progress lives in the database, not in a result backend
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_routes={name: {"queue": queue} for name, queue in QUEUES.items()},
        task_default_queue="ingest",
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
    )
    app.conf.osteo_settings = settings
    return app


@signals.worker_init.connect
def _prepare_worker(sender: object = None, **_: object) -> None:
    app = getattr(sender, "app", None)
    if app is not None and hasattr(app.conf, "osteo_settings"):
        ensure_broker_folders(app.conf.osteo_settings)


app = create_app()
enqueue = publisher(app)
