"""Sorting, paging and their links for every list of the pages and the API (see screening.listing).

Pages take ``?page=N&per_page=M&sort=-key``; the API takes ``?limit=&offset=&sort=``.
Both answer with the total, and pages say "51-100 of 230" with links to the rest,
keeping every other query parameter, so no list is cut without saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import request, url_for

from screening.listing import Sort, SortError, Window, pages, parse_sort
from web.errors import bad_request

MAX_PAGE = 500  # most rows one API answer holds (limit)
PER_PAGE_CHOICES = (25, 50, 100, 200)
MAX_PAGE_NUMBER = 10**6


def int_param(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be a whole number, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise bad_request(f"'{name}' must be between {minimum} and {maximum}, got {value}")
    return value


def sort_param(keys: Sequence[str], default: Sort) -> Sort:
    try:
        return parse_sort(request.args.get("sort"), keys, default)
    except SortError as exc:
        raise bad_request(str(exc)) from None


def page_window(default_size: int = 50) -> Window:
    """A page's window from ``page`` (1-based) and ``per_page``."""
    per_page = int_param("per_page", default_size, 1, max(PER_PAGE_CHOICES))
    page = int_param("page", 1, 1, MAX_PAGE_NUMBER)
    return Window(per_page, (page - 1) * per_page)


def api_window(default_limit: int = 50) -> Window:
    return Window(int_param("limit", default_limit, 1, MAX_PAGE), int_param("offset", 0, 0, 10**9))


def page_url(**changes: Any) -> str:
    """This page's URL with ``changes`` to its query (None drops a parameter)."""
    args: dict[str, Any] = {}
    for key in request.args:
        values = request.args.getlist(key)
        args[key] = values if len(values) > 1 else values[0]
    args.update(changes)
    args = {k: v for k, v in args.items() if v not in (None, "")}
    return url_for(request.endpoint or "", **(request.view_args or {}), **args)


@dataclass(frozen=True)
class Pager:
    """What a page needs to say where it is in its list and link to the rest."""

    total: int
    window: Window
    sort: Sort | None = None

    @property
    def info(self) -> dict[str, int | None]:
        return pages(self.total, self.window)

    def url(self, page: int) -> str:
        return page_url(page=page if page > 1 else None)

    def sort_url(self, key: str) -> str:
        """Sort by ``key``; the same key again flips the direction. Back to page 1."""
        descending = not self.sort.descending if self.sort and self.sort.key == key else key not in ASCENDING_FIRST
        return page_url(sort=Sort(key, descending).param, page=None)

    def arrow(self, key: str) -> str:
        if not self.sort or self.sort.key != key:
            return ""
        return " ↓" if self.sort.descending else " ↑"


# Keys a first click sorts ascending (names, files); everything else (dates, risks) newest/highest first.
ASCENDING_FIRST = frozenset({"file", "hospital", "code", "name", "email", "district", "region", "state", "filename",
                             "pseudonym", "patient", "quality", "role", "action", "label"})
