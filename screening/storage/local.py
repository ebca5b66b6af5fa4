"""Object store in a local directory: the embedded default, no server needed.

Layout under ``root``::

    objects/<key>   the object's bytes, at a path that mirrors the key
    meta/<key>      JSON sidecar with the content type (kept out of ``objects/`` so
                    no key can collide with a sidecar name)
    tmp/            writes in progress

Every write goes to a temp file in ``tmp/`` (same filesystem, so the rename is
atomic), is fsynced, then ``os.replace``d into place; readers therefore see the
old object or the new one, never a partial file, and a write that fails (for
example a broken upload stream) leaves nothing behind. ``objects/`` mirrors keys so
operators can browse it; the price is that this backend cannot hold both an object
``a`` and objects under ``a/`` (S3 can), which raises :class:`InvalidKey`.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from screening.storage.base import (
    DEFAULT_CONTENT_TYPE,
    InvalidKey,
    ObjectNotFound,
    StorageUnavailable,
    validate_content_type,
    validate_key,
    validate_prefix,
)

COPY_CHUNK_BYTES = 1024 * 1024
_MISSING = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable, not just visible."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalObjectStore:
    """:class:`~screening.storage.base.ObjectStore` on a directory tree."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._objects = self.root / "objects"
        self._meta = self.root / "meta"
        self._tmp = self.root / "tmp"
        try:
            for directory in (self._objects, self._meta, self._tmp):
                directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot create the object store directory {self.root}: {exc}; "
                "check OSTEO_STORAGE_DIR and its permissions"
            ) from exc

    def __repr__(self) -> str:
        return f"LocalObjectStore({str(self.root)!r})"

    # -- paths -----------------------------------------------------------------

    def _path(self, tree: Path, key: str) -> Path:
        """Path of ``key`` in ``tree``, refusing anything that resolves outside it (e.g. via a symlink)."""
        path = tree / validate_key(key)
        if not path.resolve().is_relative_to(tree.resolve()):
            raise InvalidKey(key, f"resolves outside the store directory {tree}")
        return path

    def local_path(self, key: str) -> Path:
        """Where ``key`` (an object or a prefix) lives on disk, to tell people where to look."""
        return self._path(self._objects, key).resolve()

    def _object_file(self, key: str) -> Path:
        """Path of an existing object, or :class:`ObjectNotFound`."""
        path = self._path(self._objects, key)
        try:
            mode = path.stat().st_mode
        except _MISSING:
            raise ObjectNotFound(key) from None
        if not stat.S_ISREG(mode):
            raise ObjectNotFound(key)
        return path

    # -- writing ---------------------------------------------------------------

    def _write(self, tree: Path, key: str, fill: Callable[[BinaryIO], object]) -> None:
        """Write via a fsynced temp file and an atomic rename; remove the temp file on any failure."""
        target = self._path(tree, key)
        fd, temp_name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        try:
            with os.fdopen(fd, "wb") as handle:
                fill(handle)
                handle.flush()
                os.fsync(handle.fileno())
            self._install(Path(temp_name), target, key)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise

    def _install(self, temp: Path, target: Path, key: str) -> None:
        """Rename ``temp`` onto ``target``, retrying if a concurrent delete pruned the parent."""
        for attempt in range(3):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)
            except FileNotFoundError:
                if attempt == 2:
                    raise
                continue
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                raise InvalidKey(
                    key,
                    "conflicts with an existing object or prefix (the local store cannot hold both 'a' and 'a/...')",
                ) from None
            _fsync_directory(target.parent)
            return

    def _put(self, key: str, content_type: str, fill: Callable[[BinaryIO], object]) -> None:
        """Write the sidecar first, so the object appears (at the rename) with its content type."""
        validate_key(key)
        metadata = json.dumps({"content_type": validate_content_type(content_type)}).encode("utf-8")
        self._write(self._meta, key, lambda handle: handle.write(metadata))
        self._write(self._objects, key, fill)

    def put_bytes(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store ``data`` under ``key``, atomically replacing any existing object."""
        self._put(key, content_type, lambda handle: handle.write(data))

    def put_stream(self, key: str, stream: BinaryIO, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Copy ``stream`` under ``key`` in 1 MiB chunks; nothing is stored if reading it fails."""
        self._put(key, content_type, lambda handle: shutil.copyfileobj(stream, handle, COPY_CHUNK_BYTES))

    # -- reading ---------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        """The whole object; raises :class:`ObjectNotFound`."""
        try:
            return self._object_file(key).read_bytes()
        except _MISSING:
            raise ObjectNotFound(key) from None

    def open(self, key: str) -> BinaryIO:
        """A seekable binary file of the object; the caller closes it."""
        try:
            return self._object_file(key).open("rb")
        except _MISSING:
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        """True if an object is stored under ``key`` (a prefix alone is not an object)."""
        return self._path(self._objects, key).is_file()

    def size(self, key: str) -> int:
        """Size in bytes; raises :class:`ObjectNotFound`."""
        return self._object_file(key).stat().st_size

    def content_type(self, key: str) -> str:
        """Content type from the sidecar (octet-stream if the sidecar was lost)."""
        self._object_file(key)
        try:
            metadata = json.loads(self._path(self._meta, key).read_bytes())
        except (*_MISSING, ValueError):
            return DEFAULT_CONTENT_TYPE
        return str(metadata.get("content_type") or DEFAULT_CONTENT_TYPE)

    def list(self, prefix: str = "") -> Iterator[str]:
        """Sorted keys starting with ``prefix``; walks only the directory the prefix pins down."""
        validate_prefix(prefix)
        directory = prefix.rpartition("/")[0]
        start = self._path(self._objects, directory) if directory else self._objects
        keys = []
        for current, _dirs, files in os.walk(start):
            base = Path(current).relative_to(self._objects).as_posix()
            for name in files:
                key = name if base == "." else f"{base}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    # -- deleting --------------------------------------------------------------

    def delete(self, key: str) -> None:
        """Remove the object and its sidecar; a missing object is not an error."""
        for tree in (self._objects, self._meta):
            path = self._path(tree, key)
            with suppress(*_MISSING):
                path.unlink()
            self._prune_empty_parents(tree, path.parent)

    @staticmethod
    def _prune_empty_parents(tree: Path, directory: Path) -> None:
        """Remove directories the delete left empty, stopping at the first non-empty one."""
        while directory != tree:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent
