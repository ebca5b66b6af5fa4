"""Deterministic DICOM UIDs for the objects sent back, so a resend replaces instead of duplicating.

Every UID is ``2.25.<integer>`` (PS3.5 B.2, a UUID's 128 bits as a decimal integer)
whose bits are a hash of the names of what it identifies: the same batch,
image, model and kind of object always give the same SOP Instance UID, and a PACS
that receives it twice keeps one instance. The inputs are internal ids and the
source's Study Instance UID, never a patient identifier.
"""

from __future__ import annotations

import hashlib

# Series numbers of the three new series in the source study (high, to sort after the acquisition's).
SERIES_NUMBERS = {"sr": 9701, "sc": 9702, "pdf": 9703}


def derived_uid(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(["osteo-ai", *(str(p) for p in parts)]).encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def series_uid(batch_id: str, study_uid: str, kind: str) -> str:
    """One new series per kind (sr, sc, pdf) per source study and batch."""
    return derived_uid("series", batch_id, study_uid, kind)


def instance_uid(batch_id: str, subject: object, model_version: str, kind: str) -> str:
    """One instance per kind per image (sr, sc) or per patient report (pdf), batch and model version."""
    return derived_uid("instance", batch_id, subject, model_version, kind)
