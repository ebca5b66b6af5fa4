"""S3-specific behaviour against a real S3 API server: bucket errors, aborted uploads."""

from __future__ import annotations

import io
from typing import Any

import pytest

from screening.storage import S3ObjectStore, StorageUnavailable
from tests.fixtures_s3 import TEST_CREDENTIALS

pytestmark = pytest.mark.integration


class _BrokenStream(io.RawIOBase):
    """Gives 9 MiB (more than one multipart part) and then fails like a dropped client."""

    def __init__(self) -> None:
        self._given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._given >= 9 * 1024 * 1024:
            raise ConnectionResetError("client went away")
        size = min(len(buffer), 9 * 1024 * 1024 - self._given)
        buffer[:size] = b"z" * size
        self._given += size
        return size


def test_missing_bucket_is_reported_with_its_name(s3_server: str) -> None:
    store = S3ObjectStore("no-such-bucket-here", endpoint_url=s3_server, **TEST_CREDENTIALS)
    for operation in (
        lambda: store.put_bytes("k", b"x"),
        lambda: store.get_bytes("k"),
        lambda: store.exists("k"),
        lambda: store.size("k"),
        lambda: list(store.list()),
    ):
        with pytest.raises(StorageUnavailable) as excinfo:
            operation()
        message = str(excinfo.value)
        assert "no-such-bucket-here" in message and "does not exist" in message and s3_server in message


def test_ensure_bucket_creates_once_and_is_repeatable(s3_server: str, s3_client: Any) -> None:
    store = S3ObjectStore("ensure-bucket-test", endpoint_url=s3_server, **TEST_CREDENTIALS)
    store.ensure_bucket()
    store.ensure_bucket()
    store.put_bytes("k", b"x")
    assert store.get_bytes("k") == b"x"
    s3_client.delete_object(Bucket="ensure-bucket-test", Key="k")
    s3_client.delete_bucket(Bucket="ensure-bucket-test")


def test_failed_multipart_upload_is_aborted(s3_store: S3ObjectStore, s3_client: Any) -> None:
    with pytest.raises(ConnectionResetError):
        s3_store.put_stream("uploads/big.zip", _BrokenStream())  # type: ignore[arg-type]
    assert not s3_store.exists("uploads/big.zip")
    assert s3_client.list_multipart_uploads(Bucket=s3_store.bucket).get("Uploads", []) == []
