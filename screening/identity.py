"""The hospital's own patient identifier, kept encrypted and shown only to that hospital's staff.

Everything shared (officials' figures, other hospitals, object keys, logs) knows a
patient only by the keyed pseudonym (:mod:`screening.pseudonyms`). Hospital staff
need the identifier their own systems use (the manifest's ``patient_id`` or the
DICOM PatientID) to call the patient back, so it is stored too, but only sealed
(:mod:`screening.sealing`: Fernet under ``OSTEO_IDENTIFIER_KEY``, rotated with
``osteo identifiers rotate``).

Looking a patient up by identifier never decrypts anything: the identifier is
pseudonymised with the same keyed hash as at ingest and the pseudonym is looked up.
Who may see a decrypted identifier is decided in one place, :func:`may_see_identifier`.
"""

from __future__ import annotations

import logging
import secrets
from functools import lru_cache
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from screening.config import Settings
from screening.db.models import DicomSource, Patient, Role, User
from screening.sealing import Sealer, SealError

logger = logging.getLogger(__name__)
UNREADABLE = "(identifier unreadable: key missing)"
ROTATE_BATCH = 500


class IdentityCipher:
    """Seals and opens hospital patient identifiers (text) with the configured key(s)."""

    def __init__(self, sealer: Sealer) -> None:
        self.sealer = sealer

    def encrypt(self, identifier: str) -> str:
        return self.sealer.seal(identifier.encode("utf-8"))

    def decrypt(self, token: str) -> str:
        """The identifier; :data:`UNREADABLE` when no configured key opens the token (a key was dropped too soon)."""
        try:
            return self.sealer.open(token).decode("utf-8")
        except SealError:
            logger.warning("a patient identifier could not be decrypted with the configured keys")
            return UNREADABLE


@lru_cache(maxsize=4)
def _cipher(key: str) -> IdentityCipher:
    return IdentityCipher(Sealer(key))


def identity_cipher(settings: Settings) -> IdentityCipher:
    """The process's cipher for ``settings`` (built once per key)."""
    return _cipher(settings.identifier_key)


def new_key() -> str:
    """A fresh random secret for ``OSTEO_IDENTIFIER_KEY``."""
    return secrets.token_urlsafe(48)


def may_see_identifier(user: User | None, hospital_id: int) -> bool:
    """Only staff of the patient's own hospital; officials, admins and other hospitals see pseudonyms."""
    return user is not None and user.role is Role.STAFF and user.hospital_id == hospital_id


def identifier_for(cipher: IdentityCipher, user: User | None, patient: Patient | None) -> str | None:
    """The patient's hospital identifier if ``user`` may see it and it is stored, else None."""
    if patient is None or patient.identifier is None or not may_see_identifier(user, patient.hospital_id):
        return None
    return cipher.decrypt(patient.identifier)


def rotate_all(session: Session, sealer: Sealer) -> dict[str, tuple[int, int]]:
    """Re-seal every stored identifier under the newest key; per table, (rotated, unreadable).

    Covers patients' own ids and the DICOM sources kept to send results back. Works in
    batches of primary keys, committing each, so a large table is never held in one
    transaction; run it again after an interruption. Unreadable tokens are left as they are.
    """
    return {name: _rotate(session, sealer, table, column)
            for name, table, column in (("patients", Patient.__table__, "identifier"),
                                        ("dicom_sources", DicomSource.__table__, "sealed"))}


def _rotate(session: Session, sealer: Sealer, table: Any, name: str) -> tuple[int, int]:
    rotated = unreadable = 0
    last_id = 0
    key, column = table.c.id, table.c[name]
    while True:
        rows = session.execute(select(key, column).where(column.is_not(None), key > last_id)
                               .order_by(key).limit(ROTATE_BATCH)).all()
        if not rows:
            return rotated, unreadable
        for row_id, token in rows:
            try:
                session.execute(update(table).where(key == row_id).values({name: sealer.rotate(token)}))
                rotated += 1
            except SealError:
                unreadable += 1
        last_id = rows[-1][0]
        session.commit()
