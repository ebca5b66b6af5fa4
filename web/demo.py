"""``osteo demo``: from an empty directory to a screened sample batch on a live dashboard.

Everything runs on the embedded default (SQLite, a local object store, Celery's
filesystem transport): no server to install. Each step checks what already
exists, so a second run reuses the database, the sample archive and the screened
batch instead of failing or duplicating them. This module is a composition root:
it ties the phantom generator, the pipeline, a worker and the web app together.
The ``osteo demo`` command itself (options, progress display, error messages) is
composed with the other commands in ``screening.cli_demo``.
"""

from __future__ import annotations

import csv
import logging
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from screening.accounts import AccountError, add_hospital, add_user, get_hospital
from screening.config import Settings
from screening.db import Batch, Role, User, schema, session_scope
from screening.pipeline import submit_batch
from screening.storage import LocalObjectStore, open_store
from screening.vocabulary import COMPLETED_STATUSES, is_finished
from worker.topology import ALL_QUEUES, celery_worker_command

DEMO_HOSPITAL = ("DEMO-DH", "Demo District Hospital", "Demo District", "Demo Region")
DEMO_STAFF = ("staff@demo.osteo", "demo-staff-pass")
DEMO_OFFICIAL = ("official@demo.osteo", "demo-official-pass")
SAMPLE_NAME = "sample-phantoms.zip"
SAMPLE_IMAGES = 48
SAMPLE_SEED = 2026

Progress = Callable[[Batch], None]
logger = logging.getLogger(__name__)


class DemoError(Exception):
    """The demo cannot run as asked (the message says why and what to do)."""


def say(message: str) -> None:
    """One line for the person running the demo (it is an interactive command)."""
    print(message, flush=True)


def ensure_demo_accounts(settings: Settings) -> None:
    """The demo hospital, a hospital login and a health-official login (kept if present)."""
    code, name, district, region = DEMO_HOSPITAL
    with session_scope(settings.database_url) as session:
        try:
            get_hospital(session, code)
        except AccountError:
            add_hospital(session, code, name, district, region)
        existing = set(session.scalars(select(User.email)))
        if DEMO_STAFF[0] not in existing:
            add_user(session, DEMO_STAFF[0], Role.STAFF, DEMO_STAFF[1], "Demo radiographer", hospital_code=code)
        if DEMO_OFFICIAL[0] not in existing:
            add_user(session, DEMO_OFFICIAL[0], Role.OFFICIAL, DEMO_OFFICIAL[1], "Demo health official",
                     region=region)


def sample_archive(settings: Settings) -> Path:
    """A zip of synthetic phantom X-rays with a manifest (written once, then reused)."""
    from training.phantoms import SCREENING_MIN_AGE, write_dataset

    target = Path(settings.var_dir) / "demo" / SAMPLE_NAME
    if target.exists():
        return target
    source = target.parent / "sample-src"
    say(f"writing {SAMPLE_IMAGES} synthetic phantom X-rays (not patient data) to {target}")
    manifest = write_dataset(source, SAMPLE_IMAGES, seed=SAMPLE_SEED, size=512, class_balance=(0.5, 0.3, 0.2),
                             min_age_years=SCREENING_MIN_AGE)
    partial = target.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive, manifest.open() as fh:
        lines = ["file,patient_id,age_years,sex"]
        for row in csv.DictReader(fh):
            archive.write(source / row["file"], row["file"])
            lines.append(f"{row['file']},{row['patient_id']},{row['age_years']},{row['sex']}")
        archive.writestr("manifest.csv", "\n".join(lines) + "\n")
    partial.rename(target)
    return target


def screened_batch(settings: Settings, archive: Path) -> Batch | None:
    """The finished batch of this archive at the demo hospital, if it was screened before."""
    with session_scope(settings.database_url) as session:
        hospital = get_hospital(session, DEMO_HOSPITAL[0])
        return session.scalar(select(Batch).where(Batch.hospital_id == hospital.id,
                                                  Batch.original_filename == archive.name,
                                                  Batch.status.in_(COMPLETED_STATUSES)).order_by(Batch.created_at.desc()))


class DemoWorker:
    """One Celery worker process on the filesystem transport: the model runs there, not here."""

    def __init__(self, settings: Settings) -> None:
        log_path = Path(settings.var_dir) / "demo" / "worker.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(celery_worker_command(ALL_QUEUES, "demo"),
                                        stdout=self.log, stderr=subprocess.STDOUT, cwd=os.getcwd())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def screen_archive(settings: Settings, archive: Path, progress: Progress) -> Batch:
    """Upload as the API does (store, commit, enqueue), then follow the batch's counters."""
    from worker.app import create_app as create_celery
    from worker.routing import publisher

    store = open_store(settings)
    with session_scope(settings.database_url) as session, archive.open("rb") as stream:
        batch = submit_batch(session, store, publisher(create_celery(settings)),
                             get_hospital(session, DEMO_HOSPITAL[0]), stream, archive.name).batch
    logger.info("demo batch=%s submitted", batch.id)
    say(f"screening {archive.name} (batch {batch.id}); the worker log is in {settings.var_dir}/demo/")
    while not is_finished(batch.status):
        time.sleep(0.5)
        with session_scope(settings.database_url) as session:
            batch = session.get(Batch, batch.id)
        progress(batch)
    logger.info("demo batch=%s state=%s", batch.id, batch.status.value)
    return batch


def serve(settings: Settings, host: str, port: int) -> None:
    """The dashboard; uploads from the browser go to the demo worker."""
    from werkzeug.serving import make_server

    from web import create_app

    try:
        server = make_server(host, port, create_app(settings), threaded=True)  # listening from here on
    except OSError as exc:
        raise DemoError(f"cannot listen on {host}:{port} ({exc.strerror}); try --port") from None
    say("")
    say(f"Dashboard:       http://{host}:{port}/")
    say(f"Hospital login:  {DEMO_STAFF[0]} / {DEMO_STAFF[1]}")
    say(f"Official login:  {DEMO_OFFICIAL[0]} / {DEMO_OFFICIAL[1]}")
    say(f"Reports:         {LocalObjectStore(settings.storage_dir).local_path('reports')}/")
    say("Synthetic demo model on phantom data: a demonstration, not for clinical use.")
    say("Press Ctrl-C to stop.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("stopped")


def run_demo(settings: Settings, archive: Path | None, host: str, port: int, serve_dashboard: bool,
             progress: Progress) -> None:
    """Set up the embedded default, screen ``archive`` (or the sample) and serve the dashboard.

    ``progress`` sees the batch row each time it is polled, the last time finished.
    """
    if settings.redis_url is not None:
        raise DemoError("osteo demo runs on the embedded default: unset OSTEO_REDIS_URL")
    schema.upgrade(settings.database_url)
    ensure_demo_accounts(settings)
    # `kill`/SIGTERM ends the demo like Ctrl-C does, so the worker is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    archive = archive or sample_archive(settings)
    batch = screened_batch(settings, archive) if archive.name == SAMPLE_NAME else None
    worker = DemoWorker(settings)
    try:
        if batch is not None:
            say(f"sample batch already screened ({batch.id}, {batch.screened} images): reusing it")
        else:
            screen_archive(settings, archive, progress)
        if serve_dashboard:
            serve(settings, host, port)
    finally:
        worker.stop()
