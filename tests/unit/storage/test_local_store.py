"""Local-directory backend: on-disk layout, atomic writes, path safety."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from screening.storage import InvalidKey, LocalObjectStore, ObjectNotFound, StorageUnavailable


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "store")


def test_objects_are_plain_files_mirroring_their_keys(store: LocalObjectStore) -> None:
    store.put_bytes("reports/p1/report.pdf", b"%PDF", "application/pdf")
    assert (store.root / "objects" / "reports" / "p1" / "report.pdf").read_bytes() == b"%PDF"
    assert list((store.root / "tmp").iterdir()) == []


def test_a_write_never_exposes_a_partial_file(store: LocalObjectStore) -> None:
    """While a stream is still being read, the key shows the old object (or nothing)."""
    store.put_bytes("uploads/b.zip", b"old")
    seen_during_write = []

    class Observing:
        def __init__(self) -> None:
            self.chunks = [b"new-", b"content"]

        def read(self, size: int = -1) -> bytes:
            seen_during_write.append(store.get_bytes("uploads/b.zip"))
            return self.chunks.pop(0) if self.chunks else b""

    store.put_stream("uploads/b.zip", Observing())  # type: ignore[arg-type]
    assert set(seen_during_write) == {b"old"}
    assert store.get_bytes("uploads/b.zip") == b"new-content"


def test_content_type_survives_reopening_the_store(store: LocalObjectStore) -> None:
    store.put_bytes("overlays/x.png", b"png", "image/png")
    reopened = LocalObjectStore(store.root)
    assert reopened.content_type("overlays/x.png") == "image/png"


def test_delete_removes_sidecar_and_empty_directories(store: LocalObjectStore) -> None:
    store.put_bytes("a/b/c.txt", b"x", "text/plain")
    store.put_bytes("a/keep.txt", b"y")
    store.delete("a/b/c.txt")
    assert not (store.root / "objects" / "a" / "b").exists()
    assert not (store.root / "meta" / "a" / "b").exists()
    assert store.exists("a/keep.txt")
    store.put_bytes("a/b", b"a key where a directory used to be")
    assert store.get_bytes("a/b") == b"a key where a directory used to be"


def test_object_and_prefix_with_the_same_name_conflict_clearly(store: LocalObjectStore) -> None:
    store.put_bytes("a", b"x")
    with pytest.raises(InvalidKey, match="conflicts"):
        store.put_bytes("a/b", b"y")
    store.put_bytes("c/d", b"z")
    with pytest.raises(InvalidKey, match="conflicts"):
        store.put_bytes("c", b"w")
    assert not store.exists("c")
    with pytest.raises(ObjectNotFound):
        store.get_bytes("c")
    assert list(store.list()) == ["a", "c/d"]
    assert list((store.root / "tmp").iterdir()) == []


def test_symlink_out_of_the_store_is_refused(store: LocalObjectStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"not yours")
    os.symlink(outside, store.root / "objects" / "escape")
    with pytest.raises(InvalidKey, match="outside"):
        store.get_bytes("escape/secret.txt")
    with pytest.raises(InvalidKey, match="outside"):
        store.put_bytes("escape/new.txt", b"x")
    assert not (outside / "new.txt").exists()


def test_unusable_root_is_reported_as_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    with pytest.raises(StorageUnavailable, match="OSTEO_STORAGE_DIR"):
        LocalObjectStore(blocker / "store")
