"""multipart/related bodies (STOW-RS) read part by part from a file."""

import tempfile

import pytest

from screening.interop.multipart import MultipartError, boundary_of, iter_parts


def _parts(body: bytes, boundary: str = "b0undary") -> list[tuple[dict[str, str], bytes]]:
    with tempfile.TemporaryFile() as spool:
        spool.write(body)
        return list(iter_parts(spool, boundary))


def test_parts_keep_their_bytes_exactly_even_with_crlf_inside():
    body = (b"preamble\r\n--b0undary\r\nContent-Type: application/dicom\r\n\r\nA\r\n\r\nB\r\n"
            b"--b0undary\r\n\r\n\x00\x01--b0und\r\n--b0undary--\r\nepilogue")
    assert _parts(body) == [({"content-type": "application/dicom"}, b"A\r\n\r\nB"), ({}, b"\x00\x01--b0und")]


def test_the_boundary_comes_from_a_multipart_related_content_type():
    assert boundary_of('multipart/related; type="application/dicom"; boundary="abc 1"') == "abc 1"
    with pytest.raises(MultipartError, match="expected multipart/related"):
        boundary_of("multipart/form-data; boundary=x")
    with pytest.raises(MultipartError, match="boundary"):
        boundary_of('multipart/related; type="application/dicom"')


@pytest.mark.parametrize(("body", "message"), [
    (b"", "empty"),
    (b"no parts at all", "never occurs"),
    (b"--b0undary\r\nContent-Type: application/dicom\r\n\r\nunterminated", "closing boundary"),
    (b"--b0undaryX\r\n\r\nx\r\n--b0undary--", "not followed by CRLF"),
])
def test_malformed_bodies_say_what_is_wrong(body, message):
    with pytest.raises(MultipartError, match=message):
        _parts(body)
