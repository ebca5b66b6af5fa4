"""Aggregates for officials and hospitals, from the per-day summary table."""

from __future__ import annotations

from flask import Response, g, request

from screening import queries
from web.api import api
from web.api.params import choice_param, date_range, respond
from web.auth import api_login_required
from web.authz import visible_hospital_ids
from web.presenters import summary_json
from web.state import db


def summary_from_request() -> queries.Summary:
    """The summary the query string asks for, scoped to what the caller may see."""
    level = choice_param("level", queries.LEVELS, default="hospital")
    start, end = date_range()
    district = request.args.get("district") or None
    region = request.args.get("region") or None
    return queries.summarize(db(), visible_hospital_ids(db(), g.user), level, start, end, district, region)


@api.get("/summary")
@api_login_required
def summary() -> Response:
    result = summary_from_request()
    return respond(summary_json(result), result.model_version_ids)
