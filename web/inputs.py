"""Input checks every view relies on, so hostile input is a 4xx before it reaches the database.

PostgreSQL text cannot hold a NUL character and its ``integer`` columns stop at
2**31 - 1; without these checks a ``%00`` in a URL or a 20-digit id would surface
as a driver error and a 500. One check here covers every route, query string,
form field, upload file name and header, instead of one in each view.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, request
from werkzeug.routing import IntegerConverter, Map

from web.errors import bad_request

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class DatabaseIdConverter(IntegerConverter):
    """``<id:name>``: a whole number that fits an ``Integer`` key (int4); anything larger is a 404."""

    largest = 2**31 - 1

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=0, max=self.largest)


class BigDatabaseIdConverter(DatabaseIdConverter):
    """``<bigid:name>``: the same for ``BigInteger`` keys (int8), such as image ids."""

    largest = 2**63 - 1


def _has_nul(pairs: Iterable[tuple[str, object]]) -> bool:
    return any("\x00" in key or (isinstance(value, str) and "\x00" in value) for key, value in pairs)


def reject_nul_bytes() -> None:
    """Before every request: 400 when the path, a query value, form field, file name or header holds NUL."""
    where = None
    if "\x00" in request.path:
        where = "the URL path"
    elif _has_nul(request.args.items(multi=True)):
        where = "a query parameter"
    elif _has_nul(request.headers.items()):
        where = "a request header"
    elif request.mimetype in FORM_TYPES:
        if _has_nul(request.form.items(multi=True)):
            where = "a form field"
        elif _has_nul((name, upload.filename) for name, upload in request.files.items(multi=True)):
            where = "an uploaded file's name"
    if where:
        raise bad_request(f"{where} contains a NUL character")


def register(app: Flask) -> None:
    """The ``id``/``bigid`` URL converters (before any route uses them) and the NUL check."""
    app.url_map.converters["id"] = DatabaseIdConverter
    app.url_map.converters["bigid"] = BigDatabaseIdConverter
    app.before_request(reject_nul_bytes)
