"""Encrypting the few identifiers the product must keep, with a key from the settings.

Pseudonyms are enough for everything shared; the exceptions are values that must go
back to the hospital as they came: the patient and study modules of a DICOM image that
results are written back into (:mod:`screening.interop.source`), and each hospital's own
patient id, shown to its staff (:mod:`screening.identity`). Those are sealed here with
Fernet (AES-128-CBC + HMAC-SHA256, from the maintained ``cryptography`` library) under
``OSTEO_IDENTIFIER_KEY``, stored only in the database, and opened only in memory by the
step that needs them. Production refuses the development key (:mod:`screening.config`).

``OSTEO_IDENTIFIER_KEY`` may list several secrets, comma-separated, newest first
(MultiFernet): the first seals, every one opens, and :func:`Sealer.rotate` re-seals a
token under the first, so a key is replaced without downtime (``osteo identifiers rotate``).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from screening.config import Settings


class SealError(ValueError):
    """A sealed value cannot be opened (another key, or damaged)."""


def _fernet(secret: str) -> Fernet:
    # Fernet wants 32 url-safe base64 bytes; any long secret is accepted and hashed to that.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"osteo-identifiers\x1f" + secret.encode()).digest()))


class Sealer:
    """Seal byte strings under the newest secret; open them under any of the listed ones."""

    def __init__(self, secret: str) -> None:
        secrets = [part.strip() for part in secret.split(",") if part.strip()]
        if not secrets:
            raise ValueError("OSTEO_IDENTIFIER_KEY is empty")
        self._fernet = MultiFernet([_fernet(part) for part in secrets])

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(settings.identifier_key)

    def seal(self, data: bytes) -> str:
        return self._fernet.encrypt(data).decode("ascii")

    def open(self, token: str) -> bytes:
        try:
            return self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, ValueError):
            raise SealError("the sealed identifiers cannot be opened with this OSTEO_IDENTIFIER_KEY") from None

    def rotate(self, token: str) -> str:
        """The same value sealed under the newest secret (SealError when no listed secret opens it)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise SealError("the sealed identifiers cannot be opened with this OSTEO_IDENTIFIER_KEY") from None
