"""Keyed pseudonyms for patient identifiers.

A plain hash of a hospital patient number can be reversed by hashing every
plausible number; an HMAC with a secret the hospital never sees cannot. The
hospital code is part of the message so the same number at two hospitals gives
two different pseudonyms.
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_LENGTH = 20  # hex characters: 80 bits, collision-free at national scale


def pseudonymise(secret: str, hospital_code: str, patient_id: str) -> str:
    message = f"{hospital_code.strip().upper()}\x1f{patient_id.strip()}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return "P" + digest[:PSEUDONYM_LENGTH].upper()
