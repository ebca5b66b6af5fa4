"""Dashboard and summary API latency at national scale: 1,000,000 predictions, 50 hospitals, 365 days.

Seeds a fresh PostgreSQL database (default ``osteo_bench``, dropped and recreated)
with generate_series INSERT ... SELECT (seconds, not hours): one batch per hospital and
day, one image per person screened (1 in 12 screenings is of a person screened 31 days
earlier at the same hospital, some of them "earlier" across the year's end, as late
batches are), 1 in 33 files rejected, ~15 % referred. Every referral has a follow-up:
60 % DXA done with a T-score 0-59 days later, 10 % declined, 5 % lost, the rest open.
It builds the per-day image summaries with one GROUP BY, the people's screenings with
their previous-screening days, and the figure tables with the product's own statements
(``screening.followup.rollups.rebuild_tables``, what finalize and follow-up keep up to
date), then times ``/api/v1/summary`` variants (people figures by place, sex, age band
and week, plus image counts) and the officials' overview page through the Flask test
client (full app stack: auth, scope, SQL, JSON/Jinja).

    PYTHONPATH=. .venv/bin/python bench/dashboard.py [--predictions 1000000] [--requests 60] [--reuse]

The last line of output is one JSON object with every figure. Target: p95 <= 100 ms
(issue 15: the people-based summary at 1M predictions with follow-ups).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from screening.accounts import AccountError, add_user, create_token, get_user
from screening.config import load_settings
from screening.db import schema
from screening.db.models import Role
from screening.db.session import get_engine, session_scope
from screening.followup.rollups import rebuild_tables
from web import create_app

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HOSPITALS, DAYS, REGIONS, DISTRICTS_PER_REGION = 50, 365, 5, 2

SEED_SQL = [
    # 50 hospitals in 10 districts of 5 regions.
    f"""INSERT INTO hospitals (id, code, name, district, region, created_at)
        SELECT h, 'H' || lpad(h::text, 3, '0'), 'Hospital ' || h,
               'District ' || (1 + (h - 1) % {REGIONS * DISTRICTS_PER_REGION}),
               'Region ' || (1 + (h - 1) % {REGIONS}), now()
        FROM generate_series(1, {HOSPITALS}) AS h""",
    """INSERT INTO model_versions (id, name, card, active, created_at)
       VALUES ('bench-v1', 'fusion-bench', '{{"name": "fusion-bench"}}', true, now())""",
    # One batch per hospital and day.
    f"""INSERT INTO batches (id, hospital_id, status, archive_key, original_filename, model_version_id,
                             files_total, accepted, rejected, duplicates, not_eligible, screened, reported, failed,
                             chunks_total, reports_total, problems_total, created_at)
        SELECT md5(h || '-' || d), h, 'complete', 'uploads/bench/' || h || '-' || d || '.zip', 'day.zip',
               'bench-v1', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
               date '2024-01-01' + d + interval '9 hours'
        FROM generate_series(1, {HOSPITALS}) AS h, generate_series(0, {DAYS - 1}) AS d""",
    # People: image i is a first screening of person i, except 1 in 12, who is the person of image i - 1550
    # (same hospital, 31 days earlier in the cycle of days).
    """INSERT INTO patients (id, hospital_id, pseudonym, sex)
       SELECT i, 1 + (i % {hospitals}), 'P' || upper(substr(md5(i::text), 1, 20)),
              CASE WHEN i % 5 < 3 THEN 'F' ELSE 'M' END
       FROM generate_series(1, {images}) AS i WHERE NOT (i % 12 = 0 AND i > 1550)""",
    # Images: 3 % rejected for quality; ages 50-89.
    """INSERT INTO images (id, batch_id, hospital_id, patient_id, filename, quality, quality_reason, age_months, sex,
                           created_at)
       SELECT i, md5(h || '-' || d), h, CASE WHEN i % 12 = 0 AND i > 1550 THEN i - 1550 ELSE i END,
              'img-' || i || '.png', CASE WHEN i % 33 = 0 THEN 'rejected' ELSE 'accepted' END, '',
              600 + (i * 7) % 480, CASE WHEN i % 5 < 3 THEN 'F' ELSE 'M' END,
              date '2024-01-01' + d + interval '9 hours'
       FROM (SELECT i, 1 + (i % {hospitals}) AS h, (i / {hospitals}) % {days} AS d
             FROM generate_series(1, {images}) AS i) AS s""",
    """INSERT INTO predictions (id, image_id, batch_id, hospital_id, patient_id, model_version_id, predicted_class,
                                p_normal, p_osteopenia, p_osteoporosis, referred, overlay_keys, created_at)
       SELECT i.id, i.id, i.batch_id, i.hospital_id, i.patient_id, 'bench-v1',
              CASE WHEN r < 0.55 THEN 'normal' WHEN r < 0.85 THEN 'osteopenia' ELSE 'osteoporosis' END,
              0.5, 0.3, 0.2, r >= 0.85, '{{}}', i.created_at
       FROM (SELECT *, random() AS r FROM images WHERE quality = 'accepted') AS i""",
    # The people's screenings finalize records (one image per person and batch here), then their previous days.
    """INSERT INTO patient_screenings (hospital_id, patient_id, batch_id, screened_at, day, sex, age_band,
                                       predicted_class, referred)
       SELECT p.hospital_id, p.patient_id, p.batch_id, i.created_at, i.created_at::date, i.sex,
              CASE WHEN i.age_months >= 1080 THEN '90' ELSE ((i.age_months / 120) * 10)::text END,
              p.predicted_class, p.referred
       FROM predictions p JOIN images i ON i.id = p.image_id""",
    """UPDATE patient_screenings s SET prev_day = p.prev_day
       FROM (SELECT id, lag(day) OVER (PARTITION BY patient_id ORDER BY screened_at, batch_id) AS prev_day
             FROM patient_screenings) AS p
       WHERE p.id = s.id AND p.prev_day IS NOT NULL""",
    # Every referral with its follow-up so far.
    """INSERT INTO referrals (hospital_id, patient_id, batch_id, image_id, prediction_id, model_version_id,
                              refer_threshold, referred_at, referred_on, predicted_class, p_osteoporosis, age_months,
                              sex, state, state_on, state_changed_at, dxa_date, t_femoral_neck, t_lowest, created_at)
       SELECT p.hospital_id, p.patient_id, p.batch_id, p.image_id, p.id, 'bench-v1', 0.5, i.created_at,
              i.created_at::date, p.predicted_class, p.p_osteoporosis, i.age_months, i.sex,
              CASE WHEN f < 6 THEN 'dxa_done' WHEN f = 6 THEN 'declined' WHEN f = 7 THEN 'lost_to_follow_up'
                   WHEN f = 8 THEN 'dxa_booked' ELSE 'to_contact' END,
              i.created_at::date, i.created_at,
              CASE WHEN f < 6 THEN i.created_at::date + (p.id % 60)::int END,
              CASE WHEN f < 6 THEN -4.0 + (p.id % 50) / 10.0 END,
              CASE WHEN f < 6 THEN -4.0 + (p.id % 50) / 10.0 END, i.created_at
       FROM (SELECT *, id % 10 AS f FROM predictions WHERE referred) AS p JOIN images i ON i.id = p.image_id""",
    # The summary rows finalize maintains, built from the rows above.
    """INSERT INTO daily_hospital_summaries (hospital_id, day, screened, normal, osteopenia, osteoporosis,
                                             referred, rejected, not_eligible, files)
       SELECT i.hospital_id, i.created_at::date,
              count(p.id), count(*) FILTER (WHERE p.predicted_class = 'normal'),
              count(*) FILTER (WHERE p.predicted_class = 'osteopenia'),
              count(*) FILTER (WHERE p.predicted_class = 'osteoporosis'),
              count(*) FILTER (WHERE p.referred), count(*) FILTER (WHERE i.quality = 'rejected'), 0, count(*)
       FROM images i LEFT JOIN predictions p ON p.image_id = i.id
       GROUP BY i.hospital_id, i.created_at::date""",
]


def create_database(name: str) -> str:
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def seed(url: str, predictions: int) -> dict[str, float]:
    """Seed the database; the image count is chosen so that ``predictions`` rows result."""
    images = round(predictions * 33 / 32)  # 1 in 33 images is rejected and gets no prediction
    params = dict(hospitals=HOSPITALS, days=DAYS, images=images)
    started = time.perf_counter()
    with get_engine(url).begin() as conn:
        for statement in SEED_SQL:
            conn.execute(sa.text(statement.format(**params)))
    with session_scope(url) as session:
        rebuild_tables(session)  # the product's own statements for the figure tables
    with get_engine(url).begin() as conn:
        tables = ("hospitals", "batches", "patients", "images", "predictions", "daily_hospital_summaries",
                  "patient_screenings", "referrals", "people_daily_summaries", "people_rescreens",
                  "referral_daily_summaries", "dxa_waits")
        for table in tables:
            conn.execute(sa.text(f"ANALYZE {table}"))
        counts = {table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
                  for table in ("predictions", "patient_screenings", "referrals", "daily_hospital_summaries",
                                "people_daily_summaries", "people_rescreens", "referral_daily_summaries",
                                "dxa_waits", "hospitals")}
    return {"seed_s": round(time.perf_counter() - started, 1), **{f"rows_{k}": v for k, v in counts.items()}}


def get_or_add_user(session, email: str, role: Role, **scope: str):  # type: ignore[no-untyped-def]
    try:
        return get_user(session, email)
    except AccountError:
        return add_user(session, email, role, **scope)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(client, path: str, headers: dict[str, str], requests: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for _ in range(3):  # warm caches and the connection pool
        assert client.get(path, headers=headers).status_code == 200, path
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, path
    return {"p50_ms": round(statistics.median(samples), 1), "p95_ms": round(percentile(samples, 0.95), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database", default="osteo_bench")
    parser.add_argument("--reuse", action="store_true",
                        help="time an already seeded database (after schema upgrades) instead of seeding again")
    args = parser.parse_args()
    figures: dict[str, object] = {}
    if args.reuse:
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{args.database}"
        schema.upgrade(url)
    else:
        url = create_database(args.database)
        schema.upgrade(url)
        figures = seed(url, args.predictions)
        print(f"seeded: {figures}", flush=True)
    with session_scope(url) as session:
        admin = get_or_add_user(session, "bench-admin@example.org", Role.ADMIN)
        official = get_or_add_user(session, "bench-official@example.org", Role.OFFICIAL, region="Region 1")
        tokens = {"admin": create_token(session, admin, "bench").secret,
                  "official": create_token(session, official, "bench").secret}
    with tempfile.TemporaryDirectory() as var:
        settings = load_settings({"OSTEO_DATABASE_URL": url, "OSTEO_VAR_DIR": var,
                                  "OSTEO_STORAGE_DIR": str(Path(var) / "objects")})
        client = create_app(settings, enqueue=lambda name, a: None).test_client()
        auth = {who: {"Authorization": f"Bearer {secret}"} for who, secret in tokens.items()}
        variants = {
            "summary_hospital_year_admin": ("/api/v1/summary?level=hospital", "admin"),
            "summary_region_year_admin": ("/api/v1/summary?level=region", "admin"),
            "summary_district_quarter_admin": ("/api/v1/summary?level=district&from=2024-04-01&to=2024-06-30", "admin"),
            "summary_hospital_region_official": ("/api/v1/summary?level=hospital", "official"),
            "overview_page_admin": ("/overview", "admin"),
            "overview_page_official_month": ("/overview?from=2024-06-01&to=2024-06-30", "official"),
            "overview_page_region_level_admin": ("/overview?level=region", "admin"),
            "summary_district_drilldown_official": ("/api/v1/summary?level=hospital&district=District%201", "official"),
        }
        for name, (path, who) in variants.items():
            result = measure(client, path, auth[who], args.requests)
            figures[name] = result
            print(f"{name:40s} p50 {result['p50_ms']:7.1f} ms   p95 {result['p95_ms']:7.1f} ms", flush=True)
    worst = max(v["p95_ms"] for v in figures.values() if isinstance(v, dict))
    figures.update({"worst_p95_ms": worst, "target_p95_ms": 100, "meets_target": worst <= 100,
                    "requests_per_variant": args.requests, "predictions_requested": args.predictions})
    get_engine(url).dispose()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
