"""Query-parameter parsing that answers 400 with a sentence instead of failing later."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from flask import jsonify, request
from flask.wrappers import Response

from web.errors import bad_request
from web.listing import MAX_PAGE, int_param
from web.presenters import DISCLAIMER


def page_params(default_limit: int = 50) -> tuple[int, int]:
    return int_param("limit", default_limit, 1, MAX_PAGE), int_param("offset", 0, 0, 10**9)


def date_param(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"'{name}' must be a date as YYYY-MM-DD, got {raw!r}") from None


def date_range() -> tuple[date | None, date | None]:
    start, end = date_param("from"), date_param("to")
    if start and end and start > end:
        raise bad_request(f"'from' ({start}) is after 'to' ({end})")
    return start, end


def choice_param(name: str, choices: Collection[str], default: str | None = None) -> str | None:
    raw = request.args.get(name) or default
    if raw is not None and raw not in choices:
        raise bad_request(f"'{name}' must be one of {', '.join(sorted(choices))}, got {raw!r}")
    return raw


def page_json(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset,
            "next_offset": offset + limit if offset + limit < total else None}


def respond(body: dict[str, Any], model_versions: Collection[str | None], status: int = 200) -> Response:
    """JSON with the model versions behind it and the disclaimer, as every API result carries."""
    response = jsonify({**body, "model_versions": sorted({v for v in model_versions if v}),
                        "disclaimer": DISCLAIMER})
    response.status_code = status
    return response
