"""Text made safe to store and to show staff: no NUL or control characters, valid UTF-8, bounded, no internals.

Member names and DICOM tags come from files we do not control. PostgreSQL refuses
NUL in text, non-UTF-8 tar names arrive as surrogate escapes, and a name may be
longer than its column: each of these once failed a whole ingest. Everything
copied from an upload into a row goes through :func:`clean`.
"""

from __future__ import annotations

import unicodedata

from screening.storage import StorageError


def clean(text: str, limit: int) -> str:
    """``text`` with surrogates and control characters replaced by U+FFFD, cut to ``limit`` characters."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogates(text) else text
    text = "".join("\ufffd" if unicodedata.category(ch) == "Cc" and ch not in "\t" else ch for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def public_reason(exc: BaseException) -> str:
    """Why a file could not be processed, in words for staff: no endpoints, buckets, keys or Python internals."""
    if isinstance(exc, StorageError):
        return "its stored copy could not be read"
    message = str(exc)
    if isinstance(exc, ValueError) and message and "\n" not in message and len(message) < 200 \
            and not any(word in message for word in INTERNAL_WORDS):
        return clean(message, 200)
    return "an unexpected error (the worker log has the details)"


# Phrases of Python's own exceptions, which mean nothing to a radiographer.
INTERNAL_WORDS = ("could not convert", "invalid literal", "object has no attribute", "unsupported operand",
                  "Traceback", "argument", "NoneType")
