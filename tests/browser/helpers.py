"""Helpers for the browser tests: Debian's chromium driven by Playwright against the real server on loopback.

Run with ``pytest -m browser``. They need ``/usr/bin/chromium`` (``apt-get install
chromium``; Playwright's own browser download is never used) and PostgreSQL; the
end-to-end test also needs Redis and starts a real Celery worker.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from werkzeug.serving import make_server

from screening.accounts import add_hospital, add_user
from screening.config import Settings, load_settings
from screening.db import schema
from screening.db.models import DailyHospitalSummary, ModelVersion, Role
from screening.db.session import session_scope
from tests.conftest import REPO_ROOT
from web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
PASSWORD = "correct-horse-battery"
USERS = {"staff": ("nurse@north.example.org", dict(role=Role.STAFF, hospital_code="NORTH")),
         "official": ("officer@coast.example.org", dict(role=Role.OFFICIAL, region="Coast")),
         "admin": ("admin@example.org", dict(role=Role.ADMIN))}
HOSPITALS = [("NORTH", "North District Hospital", "North", "Coast"),
             ("SOUTH", "South District Hospital", "South", "Coast"),
             ("BAY", "Bay Community Hospital", "Bay", "Coast"),
             ("HILL", "Hill Country Hospital", "Hill", "Highlands")]


@dataclass
class LiveServer:
    url: str
    settings: Settings


def browser_settings(database_url: str, var_dir: Path, port: int, **extra: str) -> Settings:
    env = {"OSTEO_DATABASE_URL": database_url, "OSTEO_VAR_DIR": str(var_dir),
           "OSTEO_STORAGE_DIR": str(var_dir / "objects"), "OSTEO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           **{f"OSTEO_{k.upper()}": v for k, v in extra.items()}}
    return load_settings(env)


def seed(database_url: str, with_model: bool) -> None:
    """Hospitals, one user per role and 90 days of summaries, so the overview has a story to show."""
    schema.upgrade(database_url)
    with session_scope(database_url) as session:
        for code, name, district, region in HOSPITALS:
            add_hospital(session, code, name, district, region)
        for email, scope in USERS.values():
            add_user(session, email, password=PASSWORD, **scope)
        if with_model:
            session.add(ModelVersion(id="a1b2c3d4e5f6", name="osteo-fusion-demo", active=True,
                                     card={"name": "osteo-fusion-demo"}))
        session.flush()
        start = date.today() - timedelta(days=90)
        for index, _hospital in enumerate(HOSPITALS):
            hospital_id = index + 1
            for day in range(90):
                screened = int(40 + 25 * math.sin(day / 9 + index) + 7 * index)
                osteoporosis = screened * (12 + index) // 100
                osteopenia = screened * (28 + 2 * index) // 100
                session.add(DailyHospitalSummary(
                    hospital_id=hospital_id, day=start + timedelta(days=day), screened=screened,
                    normal=screened - osteopenia - osteoporosis, osteopenia=osteopenia, osteoporosis=osteoporosis,
                    referred=osteoporosis + screened // 20, rejected=2 + day % 3 + index, files=screened + 2 + day % 3 + index))


def serve(settings: Settings, **app_kwargs: object) -> Iterator[LiveServer]:
    app = create_app(settings, **app_kwargs)
    port = int(settings.public_base_url.rsplit(":", 1)[1])
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(settings.public_base_url, settings)
    finally:
        server.shutdown()
        thread.join(timeout=10)


def save_screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, server: LiveServer, who: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", USERS[who][0])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")



def seed_program(settings: Settings, model_version_id: str = "a1b2c3d4e5f6") -> None:
    """Twelve weeks of screened people at every hospital (one in five referred, some screened twice),
    and DXA results for most referrals older than two weeks: a program with figures to show."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from screening.db.models import Referral, User
    from screening.followup.dxa import DxaResult
    from screening.followup.referrals import record_dxa
    from tests.factories import add_referred_batch

    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    with session_scope(settings.database_url) as session:
        for index, (code, *_rest) in enumerate(HOSPITALS):
            for week in range(12):
                add_referred_batch(session, settings, code, 24 + 4 * index + week % 3,
                                   today - timedelta(days=84 - 7 * week), model_version_id,
                                   first=week * 20, refer_every=5)
        admin = session.scalar(select(User).where(User.email == USERS["admin"][0]))
        for referral in session.scalars(select(Referral).order_by(Referral.id)):
            waited = (today.date() - referral.referred_on).days
            if waited >= 14 and referral.id % 5 != 0:
                t = -3.4 + (referral.id * 37 % 35) / 10  # -3.4 .. 0.0
                record_dxa(session, referral, DxaResult(referral.referred_on + timedelta(days=5 + referral.id % 9),
                                                        "Hologic Horizon A", t, None, None), admin)
