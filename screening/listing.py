"""Sorting and paging of every list the product shows, with its total: no list is ever cut silently.

A list is a query plus a table of sort keys (name -> column expression). The caller
asks for one key, ascending or descending, and a window (limit, offset); the answer
is the rows of that window and the number of rows the whole list has, so pages and
API answers can always say "51-100 of 230" and link to the rest. Every sort ends with
a unique tie-break, so pages never overlap or skip rows between requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool = False

    @property
    def param(self) -> str:
        """The ``sort`` query value that asks for this order ("-risk" = descending)."""
        return ("-" if self.descending else "") + self.key


@dataclass(frozen=True)
class Window:
    limit: int
    offset: int = 0


class SortError(ValueError):
    """An unknown sort key; the message lists the known ones."""


def parse_sort(raw: str | None, keys: Sequence[str], default: Sort) -> Sort:
    """``name`` or ``-name`` (descending) among ``keys``; ``default`` when empty."""
    text = (raw or "").strip()
    if not text:
        return default
    descending = text.startswith("-")
    key = text.lstrip("-+")
    if key not in keys:
        raise SortError(f"'sort' must be one of {', '.join(keys)} (prefix '-' for descending), got {text[:40]!r}")
    return Sort(key, descending)


def order_clauses(sort: Sort, columns: Mapping[str, Any], tiebreak: Sequence[Any]) -> list[Any]:
    column = columns[sort.key]
    primary = column.desc().nulls_last() if sort.descending else column.asc().nulls_last()
    return [primary, *tiebreak]


def fetch(session: Session, query: Select, sort: Sort, columns: Mapping[str, Any], tiebreak: Sequence[Any],
          window: Window | None) -> tuple[list[Any], int]:
    """The window's rows in ``sort`` order and the total count of ``query`` (``window`` None: every row)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    ordered = query.order_by(*order_clauses(sort, columns, tiebreak))
    if window is not None:
        ordered = ordered.limit(window.limit).offset(window.offset)
    result = session.execute(ordered)
    rows = list(result.scalars()) if len(ordered.column_descriptions) == 1 else list(result.all())
    return rows, total


def pages(total: int, window: Window) -> dict[str, int | None]:
    """What a page says of its place: first/last row shown (1-based), page numbers, next and previous offsets."""
    shown_from = window.offset + 1 if total and window.offset < total else 0
    shown_to = min(total, window.offset + window.limit)
    return {"from": shown_from, "to": shown_to, "total": total, "page": window.offset // window.limit + 1,
            "pages": max(1, -(-total // window.limit)),
            "next_offset": window.offset + window.limit if window.offset + window.limit < total else None,
            "previous_offset": max(0, window.offset - window.limit) if window.offset > 0 else None}


def string_contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match with LIKE wildcards in ``text`` taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
