"""Expiring HMAC-SHA256 signatures for download links served by the web app.

The local backend has no server of its own, so its download URLs point at the web
app (``/files/<key>``), which must check that the link was issued by us and has not
expired before it streams the file. S3 uses its own presigned URLs instead.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(secret_key: str, key: str, expires: int) -> str:
    """Hex HMAC-SHA256 of ``key`` and its expiry time; keys hold no newline, so this is unambiguous."""
    message = f"{key}\n{expires}".encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def verify(secret_key: str, key: str, expires: str | int, signature: str, now: float | None = None) -> bool:
    """True if ``signature`` was made by :func:`sign` for ``key`` and ``expires`` has not passed.

    ``expires`` and ``signature`` usually come straight from a query string, so any
    malformed value is simply rejected.
    """
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return False
    if not isinstance(signature, str) or not signature.isascii():
        return False
    current = time.time() if now is None else now
    if current > expires_at:
        return False
    expected = sign(secret_key, key, expires_at)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii"))
