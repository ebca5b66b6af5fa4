"""Encrypting the few identifiers the product must keep, with a key from the settings.

Pseudonyms are enough for everything the product shows; the exceptions are values
that must go back to the hospital as they came, such as the patient and study
modules of a DICOM image that results are written back into
(:mod:`screening.interop.source`). Those are sealed here with Fernet
(AES-128-CBC + HMAC-SHA256, from the maintained ``cryptography`` library) under
``OSTEO_IDENTIFIER_KEY``, stored only in the database, and opened only in memory
by the step that needs them. Production refuses the development key
(:mod:`screening.config`).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from screening.config import Settings


class SealError(ValueError):
    """A sealed value cannot be opened (another key, or damaged)."""


class Sealer:
    """Seal and open byte strings under one secret."""

    def __init__(self, secret: str) -> None:
        # Fernet wants 32 url-safe base64 bytes; any long secret is accepted and hashed to that.
        key = base64.urlsafe_b64encode(hashlib.sha256(b"osteo-identifiers\x1f" + secret.encode()).digest())
        self._fernet = Fernet(key)

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
