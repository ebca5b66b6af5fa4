"""The object-store interface every component writes uploads, images and reports through.

Two backends implement it (a local directory and S3/MinIO) so the same pipeline runs
on one machine and in production. Keys are validated here, once, with rules strict
enough to be safe as file paths *and* valid as S3 keys, so a key that works on one
backend works on the other.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import BinaryIO, Protocol, runtime_checkable

DEFAULT_CONTENT_TYPE = "application/octet-stream"
MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes.
MAX_SEGMENT_BYTES = 255  # NAME_MAX on common filesystems, so local keys never hit ENAMETOOLONG.


class StorageError(Exception):
    """Base of every error raised by an object store."""


class ObjectNotFound(StorageError):
    """No object is stored under ``key``."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object stored under key {key!r}")
        self.key = key


class InvalidKey(StorageError, ValueError):
    """``key`` is not an acceptable object key; ``reason`` says which rule it breaks."""

    def __init__(self, key: object, reason: str) -> None:
        super().__init__(f"invalid object key {key!r}: {reason}")
        self.key = key
        self.reason = reason


class StorageUnavailable(StorageError):
    """The store cannot be used at all (unreachable, missing bucket, refused credentials).

    The message names the endpoint or directory and what to check, because this is
    what an operator sees when a deployment is misconfigured.
    """


def _check_characters(key: str, text: str) -> None:
    """Reject characters that are unsafe in paths or ambiguous across backends."""
    if "\\" in text:
        raise InvalidKey(key, "backslashes are not allowed; use '/' to separate segments")
    for char in text:
        if unicodedata.category(char) == "Cc":
            raise InvalidKey(key, f"control character {char!r} is not allowed")


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a valid object key, else raise :class:`InvalidKey`.

    A key is relative, '/'-separated, non-empty, at most 1024 UTF-8 bytes, with no
    empty, '.' or '..' segments, no backslashes and no control characters. These
    rules make path traversal impossible in the local backend and keep keys
    identical between backends.
    """
    if not isinstance(key, str):
        raise InvalidKey(key, f"keys are strings, got {type(key).__name__}")
    if not key:
        raise InvalidKey(key, "keys must not be empty")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(key, f"keys are at most {MAX_KEY_BYTES} UTF-8 bytes")
    if key.startswith("/"):
        raise InvalidKey(key, "keys are relative and must not start with '/'")
    _check_characters(key, key)
    for segment in key.split("/"):
        if segment == "":
            raise InvalidKey(key, "empty segments ('//' or a trailing '/') are not allowed")
        if segment in {".", ".."}:
            raise InvalidKey(key, f"'{segment}' segments are not allowed")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKey(key, f"each segment is at most {MAX_SEGMENT_BYTES} UTF-8 bytes")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is a valid listing prefix, else raise :class:`InvalidKey`.

    A prefix is a run of whole valid segments, optionally followed by '/' and a
    partial segment (``"reports/"``, ``"reports/2024-"``), or empty for everything.
    """
    if not isinstance(prefix, str):
        raise InvalidKey(prefix, f"prefixes are strings, got {type(prefix).__name__}")
    if not prefix:
        return prefix
    directory, separator, partial = prefix.rpartition("/")
    if separator and not directory:
        raise InvalidKey(prefix, "prefixes are relative and must not start with '/'")
    if directory:
        validate_key(directory)
    _check_characters(prefix, partial)
    return prefix


def validate_content_type(content_type: str) -> str:
    """Return ``content_type`` if it can be sent as an HTTP header value, else raise ``ValueError``."""
    if not isinstance(content_type, str) or not content_type:
        raise ValueError(f"content type must be a non-empty string, got {content_type!r}")
    if not content_type.isascii() or not content_type.isprintable():
        raise ValueError(f"content type must be printable ASCII, got {content_type!r}")
    return content_type


@runtime_checkable
class ObjectStore(Protocol):
    """Binary objects addressed by key; see :func:`validate_key` for what a key may be.

    Writes are all-or-nothing: a reader sees the old object, the new one, or none,
    never a partial one. ``put_stream`` never holds the whole stream in memory.
    """

    def put_bytes(self, key: str, data: bytes, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store ``data`` under ``key``, replacing any existing object."""
        ...

    def put_stream(self, key: str, stream: BinaryIO, content_type: str = DEFAULT_CONTENT_TYPE) -> None:
        """Store everything read from ``stream`` under ``key``, in bounded memory."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """The whole object; raises :class:`ObjectNotFound`."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A readable binary stream of the object, for objects too large for memory."""
        ...

    def exists(self, key: str) -> bool:
        """True if an object is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Every key that starts with ``prefix``, in sorted order."""
        ...

    def size(self, key: str) -> int:
        """Size of the object in bytes; raises :class:`ObjectNotFound`."""
        ...

    def content_type(self, key: str) -> str:
        """The content type given when the object was stored; raises :class:`ObjectNotFound`."""
        ...
