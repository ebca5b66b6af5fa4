"""Settings read from ``OSTEO_*`` environment variables.

One frozen object, built once per process, so every component (web, workers,
CLI, training) sees the same configuration. The defaults need no server at
all (the *embedded default*: SQLite and a directory under ``./var``); production
sets the PostgreSQL, Redis and S3 variables. A bad value fails at start with a
message naming the variable, rather than deep inside a task.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

PREFIX = "OSTEO_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _parse_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{PREFIX}{name.upper()} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{PREFIX}{name.upper()} must be positive, got {value}")
    return value


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"{PREFIX}{name.upper()} must be true or false, got {raw!r}")


def _parse_str(name: str, raw: str) -> str:
    return raw


def _parse_optional(name: str, raw: str) -> str | None:
    return raw or None


def _parse_sexes(name: str, raw: str) -> tuple[str, ...]:
    sexes = tuple(sorted({part.strip().upper() for part in raw.split(",") if part.strip()}))
    if not sexes or not set(sexes) <= {"F", "M"}:
        raise SettingsError(f"{PREFIX}{name.upper()} must list F, M or both (e.g. 'F,M'), got {raw!r}")
    return sexes


def _parse_ae_title(name: str, raw: str) -> str:
    title = raw.strip()
    if not 1 <= len(title) <= 16 or not title.isascii() or not title.isprintable() or "\\" in title:
        raise SettingsError(f"{PREFIX}{name.upper()} must be 1 to 16 printable ASCII characters, got {raw!r}")
    return title


@dataclass(frozen=True)
class Settings:
    """Every setting of the product; field ``x`` is read from ``OSTEO_X``."""

    # Where mutable state lives in the embedded default.
    var_dir: str = "var"
    # SQLAlchemy URL. Embedded default: a SQLite file under var_dir.
    database_url: str = ""
    # Celery broker/result backend. Empty means embedded (no server, tasks run in-process).
    redis_url: str | None = None
    # Object store: "local" (a directory) or "s3" (S3 API, e.g. MinIO).
    storage_backend: str = "local"
    storage_dir: str = ""
    s3_endpoint_url: str | None = None
    s3_bucket: str = "osteo"
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"
    # Keyed hash for patient pseudonyms; the web app's session signing key.
    pseudonym_secret: str = "dev-only-pseudonym-secret-change-me"
    secret_key: str = "dev-only-secret-key-change-me"
    # Model bundle used when the database names no active model version.
    model_bundle: str = ""
    # Batch processing limits.
    chunk_size: int = 32
    max_upload_bytes: int = 4 * 1024**3
    max_archive_files: int = 5000
    max_archive_uncompressed_bytes: int = 8 * 1024**3
    max_compression_ratio: int = 200
    # Seconds before Redis hands an unacknowledged task (its worker died) to another worker;
    # must exceed the longest task.
    broker_visibility_timeout: int = 3600
    # Hours the raw uploaded archive is kept after ingest (0: deleted as soon as ingest ends).
    # The raw archive carries identifiers (DICOM tags, manifest ids): keep it only to re-run ingest.
    upload_retention_hours: int = 0
    # A batch not finished whose last progress is older than this many seconds has no live task:
    # the recovery sweep enqueues its next step again (must exceed the longest gap between steps).
    stall_seconds: int = 900
    # Seconds between two recovery sweeps in each worker that serves the ingest queue.
    sweep_interval_seconds: int = 60
    # The screening population: patients younger than this, or of a sex not listed, are
    # recorded "not eligible" (no WHO class, no referral). See screening/population.py.
    screening_min_age_years: int = 50
    screening_sexes: tuple[str, ...] = ("F", "M")
    # Render per-patient and batch reports (off for screening-only throughput runs).
    reports_enabled: bool = True
    # The key that encrypts the identifiers the product keeps (screening.sealing): each hospital's own
    # patient ids, and what results must carry back into a PACS study. Comma-separated secrets,
    # newest first, while a rotation is under way (docs/operations.md).
    identifier_key: str = "dev-only-identifier-key-change-me"
    # Our DICOM AE title (as listener and as sender), the listener's port, the seconds a study
    # must go without a new instance before it is screened, and network timeouts.
    dicom_ae_title: str = "OSTEOAI"
    dicom_port: int = 11112
    dicom_stable_seconds: int = 10
    dicom_timeout_seconds: int = 30
    # Results back: tries per destination, the first wait between two (doubled each time).
    delivery_attempts: int = 6
    delivery_backoff_seconds: int = 30
    # Base URL browsers use to reach the web app (the address the server is published at).
    public_base_url: str = "http://127.0.0.1:5000"
    # Production refuses the development secrets when this is true.
    production: bool = False

    @property
    def embedded_broker(self) -> bool:
        """True when no Redis is configured and tasks run without a broker server."""
        return self.redis_url is None


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "redis_url": _parse_optional,
    "s3_endpoint_url": _parse_optional,
    "s3_access_key": _parse_optional,
    "s3_secret_key": _parse_optional,
    "chunk_size": _parse_int,
    "max_upload_bytes": _parse_int,
    "max_archive_files": _parse_int,
    "max_archive_uncompressed_bytes": _parse_int,
    "max_compression_ratio": _parse_int,
    "broker_visibility_timeout": _parse_int,
    "upload_retention_hours": _parse_int,
    "stall_seconds": _parse_int,
    "sweep_interval_seconds": _parse_int,
    "production": _parse_bool,
    "reports_enabled": _parse_bool,
    "screening_min_age_years": _parse_int,
    "screening_sexes": _parse_sexes,
    "dicom_ae_title": _parse_ae_title,
    "dicom_port": _parse_int,
    "dicom_stable_seconds": _parse_int,
    "dicom_timeout_seconds": _parse_int,
    "delivery_attempts": _parse_int,
    "delivery_backoff_seconds": _parse_int,
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build and validate settings from ``environ`` (default: ``os.environ``)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in fields(Settings):
        raw = env.get(PREFIX + field.name.upper())
        if raw is not None:
            values[field.name] = _PARSERS.get(field.name, _parse_str)(field.name, raw)
    settings = Settings(**values)
    settings = _fill_derived_defaults(settings)
    _validate(settings)
    return settings


def _fill_derived_defaults(settings: Settings) -> Settings:
    """Defaults that depend on ``var_dir`` are resolved here, not in the dataclass."""
    var = Path(settings.var_dir)
    updates: dict[str, Any] = {}
    if not settings.database_url:
        updates["database_url"] = f"sqlite:///{(var / 'osteo.db').as_posix()}"
    if not settings.storage_dir:
        updates["storage_dir"] = str(var / "objects")
    if not settings.model_bundle:
        updates["model_bundle"] = str(PROJECT_ROOT / "models" / "demo")
    if not updates:
        return settings
    return Settings(**{**{f.name: getattr(settings, f.name) for f in fields(Settings)}, **updates})


def _validate(settings: Settings) -> None:
    scheme = urlparse(settings.database_url).scheme.split("+")[0]
    if scheme not in {"sqlite", "postgresql"}:
        raise SettingsError(
            f"{PREFIX}DATABASE_URL must be a sqlite:// or postgresql:// URL, got {settings.database_url!r}"
        )
    if settings.redis_url is not None and urlparse(settings.redis_url).scheme not in {"redis", "rediss"}:
        raise SettingsError(f"{PREFIX}REDIS_URL must be a redis:// URL, got {settings.redis_url!r}")
    if settings.storage_backend not in {"local", "s3"}:
        raise SettingsError(
            f"{PREFIX}STORAGE_BACKEND must be 'local' or 's3', got {settings.storage_backend!r}"
        )
    if settings.storage_backend == "s3" and not settings.s3_bucket:
        raise SettingsError(f"{PREFIX}S3_BUCKET must be set when {PREFIX}STORAGE_BACKEND=s3")
    if not any(part.strip() for part in settings.identifier_key.split(",")):
        raise SettingsError(f"{PREFIX}IDENTIFIER_KEY must hold a secret (osteo identifiers new-key)")
    if settings.production:
        for name in ("pseudonym_secret", "secret_key", "identifier_key"):
            if getattr(settings, name).startswith("dev-only"):
                raise SettingsError(f"{PREFIX}{name.upper()} must be set to a real secret in production")
        if any(key.strip().startswith("dev-only") for key in settings.identifier_key.split(",")):
            raise SettingsError(f"{PREFIX}IDENTIFIER_KEY must not hold the development key in production")
