"""Choosing a backend from settings, and how the S3 backend fails when its endpoint is down."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from screening.config import load_settings
from screening.storage import LocalObjectStore, ObjectStore, S3ObjectStore, StorageUnavailable, open_store
from tests.conftest import free_port


def test_default_settings_give_a_local_store_under_var(tmp_path: Path) -> None:
    settings = load_settings({"OSTEO_VAR_DIR": str(tmp_path / "var"), "OSTEO_SECRET_KEY": "k"})
    store = open_store(settings)
    assert isinstance(store, LocalObjectStore)
    assert isinstance(store, ObjectStore)
    assert store.root == tmp_path / "var" / "objects"
    store.put_bytes("k", b"v")
    assert store.get_bytes("k") == b"v"


def test_s3_settings_give_an_s3_store_without_contacting_it() -> None:
    settings = load_settings(
        {
            "OSTEO_STORAGE_BACKEND": "s3",
            "OSTEO_S3_BUCKET": "osteo-prod",
            "OSTEO_S3_ENDPOINT_URL": "http://minio.invalid:9000",
            "OSTEO_S3_ACCESS_KEY": "a",
            "OSTEO_S3_SECRET_KEY": "b",
        }
    )
    store = open_store(settings)
    assert isinstance(store, S3ObjectStore)
    assert isinstance(store, ObjectStore)
    assert (store.bucket, store.endpoint_url) == ("osteo-prod", "http://minio.invalid:9000")


def test_unreachable_s3_endpoint_fails_fast_naming_the_endpoint() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    store = S3ObjectStore("osteo", endpoint_url=endpoint, access_key="a", secret_key="b")
    for operation in (lambda: store.put_bytes("k", b"x"), lambda: store.exists("k"), lambda: list(store.list())):
        started = time.monotonic()
        with pytest.raises(StorageUnavailable) as excinfo:
            operation()
        assert time.monotonic() - started < 5
        assert endpoint in str(excinfo.value)
        assert "OSTEO_S3_ENDPOINT_URL" in str(excinfo.value)
