"""Key rules: what a caller may use as an object key, identical for both backends."""

from __future__ import annotations

import pytest

from screening.storage import InvalidKey, validate_key, validate_prefix
from screening.storage.base import validate_content_type

BAD_KEYS = {
    "": "empty",
    "/abs/key": "start with '/'",
    "../x": "'..'",
    "a/../b": "'..'",
    "a/./b": "'.'",
    "a//b": "empty segments",
    "a/": "empty segments",
    "a\\b": "backslash",
    "a\x00b": "control character",
    "a\nb": "control character",
    "a\x7fb": "control character",
    "/".join(["a" * 204] * 5) + "b": "1024",
    "a/" + "b" * 256: "255",
}


@pytest.mark.parametrize("key", ["a", "uploads/batch-1.zip", "reports/2024/Ünïcode name (1).pdf", ".hidden/..x/x..", "/".join(["a" * 204] * 5)])
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize(("key", "reason"), BAD_KEYS.items(), ids=[repr(k[:12]) for k in BAD_KEYS])
def test_invalid_keys_name_the_rule_they_break(key: str, reason: str) -> None:
    with pytest.raises(InvalidKey) as excinfo:
        validate_key(key)
    assert reason in excinfo.value.reason
    assert excinfo.value.key == key


def test_key_length_is_counted_in_utf8_bytes() -> None:
    with pytest.raises(InvalidKey):
        validate_key("é" * 513)  # 1026 bytes, 513 characters


def test_non_string_key_is_invalid() -> None:
    with pytest.raises(InvalidKey):
        validate_key(b"bytes-key")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["", "reports/", "reports/2024-", "rep", "a/.hid"])
def test_valid_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix


@pytest.mark.parametrize("prefix", ["/", "/reports", "../", "a/../b", "a//", "a\\", "a/\x00"])
def test_invalid_prefixes(prefix: str) -> None:
    with pytest.raises(InvalidKey):
        validate_prefix(prefix)


@pytest.mark.parametrize("content_type", ["", "text/plain\r\nX-Injected: 1", "tëxt/plain"])
def test_content_types_that_cannot_be_http_headers_are_refused(content_type: str) -> None:
    with pytest.raises(ValueError):
        validate_content_type(content_type)
