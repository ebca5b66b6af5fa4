"""One behaviour contract, run against both backends: a local directory and a real S3 API server.

Whatever the pipeline and web app rely on must hold for either backend, so the
same assertions run on each; the S3 runs are integration tests (moto server).
"""

from __future__ import annotations

import hashlib
import io
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from screening.storage import InvalidKey, LocalObjectStore, ObjectNotFound, ObjectStore

MIB = 1024 * 1024
INVALID_KEYS = ["../x", "/abs", "a//b", "a\\b", "", "a\x00b"]


class GeneratedStream(io.RawIOBase):
    """A non-seekable stream of ``total`` pseudo-random bytes that records how it was read.

    Non-seekable like an HTTP upload; ``largest_read`` shows whether a backend
    tried to pull the whole stream into memory at once.
    """

    def __init__(self, total: int, fail_after: int | None = None) -> None:
        self._random = random.Random(1234)
        self._remaining = total
        self._produced = 0
        self._fail_after = fail_after
        self.digest = hashlib.sha256()
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._remaining
        self.largest_read = max(self.largest_read, size)
        if self._fail_after is not None and self._produced >= self._fail_after:
            raise ConnectionResetError("client went away mid-upload")
        chunk = self._random.randbytes(min(size, self._remaining))
        self._remaining -= len(chunk)
        self._produced += len(chunk)
        self.digest.update(chunk)
        return chunk

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "store")
    return request.getfixturevalue("s3_store")


def _local_leftovers(store: ObjectStore) -> list[Path]:
    """Files in the local store's temp area (always empty for S3, which has none)."""
    if isinstance(store, LocalObjectStore):
        return list((store.root / "tmp").iterdir())
    return []


def test_put_and_get_bytes_round_trip(store: ObjectStore) -> None:
    store.put_bytes("images/abc.png", b"\x89PNG fake bytes", "image/png")
    assert store.get_bytes("images/abc.png") == b"\x89PNG fake bytes"
    assert store.size("images/abc.png") == 15
    assert store.content_type("images/abc.png") == "image/png"
    assert store.exists("images/abc.png")


def test_put_replaces_existing_object_and_its_content_type(store: ObjectStore) -> None:
    store.put_bytes("reports/p1.html", b"<p>old</p>", "text/html")
    store.put_bytes("reports/p1.html", b"%PDF-new", "application/pdf")
    assert store.get_bytes("reports/p1.html") == b"%PDF-new"
    assert store.content_type("reports/p1.html") == "application/pdf"


def test_default_content_type_is_octet_stream(store: ObjectStore) -> None:
    store.put_bytes("blob", b"x")
    assert store.content_type("blob") == "application/octet-stream"


def test_empty_object_and_unicode_key(store: ObjectStore) -> None:
    key = "reports/Ünïcode name (1).pdf"
    store.put_bytes(key, b"")
    assert store.get_bytes(key) == b""
    assert store.size(key) == 0
    assert list(store.list("reports/")) == [key]


def test_stream_of_20_mib_is_stored_intact_without_reading_it_whole(store: ObjectStore) -> None:
    total = 20 * MIB
    stream = GeneratedStream(total)
    store.put_stream("uploads/batch.zip", stream, "application/zip")  # type: ignore[arg-type]

    assert stream.largest_read <= 8 * MIB
    assert store.size("uploads/batch.zip") == total
    assert store.content_type("uploads/batch.zip") == "application/zip"
    stored = hashlib.sha256()
    with store.open("uploads/batch.zip") as handle:
        while chunk := handle.read(MIB):
            stored.update(chunk)
    assert stored.hexdigest() == stream.digest.hexdigest()
    assert _local_leftovers(store) == []


def test_failed_stream_leaves_no_object_behind(store: ObjectStore) -> None:
    stream = GeneratedStream(20 * MIB, fail_after=9 * MIB)
    with pytest.raises(ConnectionResetError):
        store.put_stream("uploads/broken.zip", stream)  # type: ignore[arg-type]
    assert not store.exists("uploads/broken.zip")
    assert list(store.list()) == []
    assert _local_leftovers(store) == []


def test_failed_stream_keeps_the_previous_version(store: ObjectStore) -> None:
    store.put_bytes("uploads/b.zip", b"complete earlier upload")
    with pytest.raises(ConnectionResetError):
        store.put_stream("uploads/b.zip", GeneratedStream(MIB, fail_after=0))  # type: ignore[arg-type]
    assert store.get_bytes("uploads/b.zip") == b"complete earlier upload"


def test_delete_is_idempotent(store: ObjectStore) -> None:
    store.put_bytes("a/b/c.txt", b"x")
    store.delete("a/b/c.txt")
    assert not store.exists("a/b/c.txt")
    store.delete("a/b/c.txt")
    store.delete("never/existed")
    assert list(store.list()) == []


def test_list_filters_by_prefix_and_sorts(store: ObjectStore) -> None:
    keys = ["reports/p2/b.pdf", "reports/p1/a.pdf", "reports-old/x", "images/i.png", "reports/p10/c.pdf"]
    for key in keys:
        store.put_bytes(key, b"x")
    assert list(store.list()) == sorted(keys)
    assert list(store.list("reports/")) == ["reports/p1/a.pdf", "reports/p10/c.pdf", "reports/p2/b.pdf"]
    assert list(store.list("reports/p1")) == ["reports/p1/a.pdf", "reports/p10/c.pdf"]
    assert list(store.list("reports")) == ["reports-old/x", "reports/p1/a.pdf", "reports/p10/c.pdf", "reports/p2/b.pdf"]
    assert list(store.list("nothing/")) == []


def test_list_returns_every_key_beyond_one_page(store: ObjectStore) -> None:
    """S3 answers at most 1000 keys per request; the store must follow the pages."""
    keys = [f"chunks/{index:05d}" for index in range(1005)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: store.put_bytes(key, b"."), keys))
    store.put_bytes("other/key", b".")
    assert list(store.list("chunks/")) == keys


def test_missing_object_raises_object_not_found(store: ObjectStore) -> None:
    store.put_bytes("present", b"x")
    for read in (store.get_bytes, store.open, store.size, store.content_type):
        with pytest.raises(ObjectNotFound) as excinfo:
            read("absent/key")
        assert excinfo.value.key == "absent/key"
    assert not store.exists("absent/key")


@pytest.mark.parametrize("key", INVALID_KEYS, ids=repr)
def test_invalid_keys_are_refused_before_anything_is_written(store: ObjectStore, key: str) -> None:
    operations = [
        lambda: store.put_bytes(key, b"x"),
        lambda: store.put_stream(key, io.BytesIO(b"x")),
        lambda: store.get_bytes(key),
        lambda: store.open(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
        lambda: store.size(key),
        lambda: store.content_type(key),
    ]
    for operation in operations:
        with pytest.raises(InvalidKey):
            operation()
    assert list(store.list()) == []
    if isinstance(store, LocalObjectStore):
        assert [path for path in store.root.rglob("*") if path.is_file()] == []
