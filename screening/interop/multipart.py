"""Reading a ``multipart/related`` body (STOW-RS, PS3.18 8.6.1.2) from a file, part by part.

Werkzeug parses form uploads, not ``multipart/related``; this reads the body from
a spooled file through ``mmap``, so a study of large images is never held in
memory twice, and yields each part's headers and bytes. A malformed body raises
:class:`MultipartError` with what is wrong.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from email.message import Message
from typing import IO


class MultipartError(ValueError):
    """The body is not the multipart/related its Content-Type says."""


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a ``multipart/related`` Content-Type."""
    message = Message()
    message["Content-Type"] = content_type
    if message.get_content_type() != "multipart/related":
        raise MultipartError(f"expected multipart/related, got {message.get_content_type()}")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not 1 <= len(boundary) <= 70:
        raise MultipartError("the Content-Type has no usable boundary parameter")
    return boundary


def iter_parts(body: IO[bytes], boundary: str) -> Iterator[tuple[dict[str, str], bytes]]:
    """(headers with lower-case names, content) for every part of the body."""
    if body.seek(0, 2) == 0:
        raise MultipartError("the body is empty")
    with mmap.mmap(body.fileno(), 0, access=mmap.ACCESS_READ) as view:
        delimiter = b"--" + boundary.encode("ascii")
        start = view.find(delimiter)
        if start < 0:
            raise MultipartError("the body holds no part (the boundary never occurs)")
        while True:
            start += len(delimiter)
            if view[start:start + 2] == b"--":
                return  # the closing delimiter
            if view[start:start + 2] != b"\r\n":
                raise MultipartError("a boundary line is not followed by CRLF")
            end = view.find(b"\r\n" + delimiter, start + 2)
            if end < 0:
                raise MultipartError("the body ends without its closing boundary")
            if view[start + 2:start + 4] == b"\r\n":  # no headers: the blank line comes at once
                headers, content_start = {}, start + 4
            else:
                header_end = view.find(b"\r\n\r\n", start + 2, end)
                if header_end < 0:
                    raise MultipartError("a part's headers are not ended by a blank line")
                headers = _headers(bytes(view[start + 2:header_end]))
                content_start = header_end + 4
            yield headers, bytes(view[content_start:end])
            start = end + 2


def _headers(block: bytes) -> dict[str, str]:
    headers = {}
    for line in block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip():
            headers[name.strip().lower()] = value.strip()
    return headers
