"""Object storage for uploads, images, overlays and reports.

``open_store(settings)`` picks the backend named by ``OSTEO_STORAGE_BACKEND``: a
local directory (the embedded default) or an S3 bucket (production, e.g. MinIO).
Callers depend only on :class:`ObjectStore` and the errors re-exported here.
"""

from __future__ import annotations

from screening.config import Settings
from screening.storage.base import (
    DEFAULT_CONTENT_TYPE,
    InvalidKey,
    ObjectNotFound,
    ObjectStore,
    StorageError,
    StorageUnavailable,
    validate_key,
    validate_prefix,
)
from screening.storage.local import LocalObjectStore
from screening.storage.s3 import S3ObjectStore

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "InvalidKey",
    "LocalObjectStore",
    "ObjectNotFound",
    "ObjectStore",
    "S3ObjectStore",
    "StorageError",
    "StorageUnavailable",
    "open_store",
    "validate_key",
    "validate_prefix",
]


def open_store(settings: Settings) -> ObjectStore:
    """The object store configured by ``settings`` (no network request is made here)."""
    if settings.storage_backend == "s3":
        return S3ObjectStore(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
        )
    if settings.storage_backend == "local":
        return LocalObjectStore(settings.storage_dir)
    raise ValueError(f"unknown storage backend {settings.storage_backend!r}; expected 'local' or 's3'")
