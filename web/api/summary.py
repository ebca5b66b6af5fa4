"""Aggregates for officials and hospitals: figures by people (screened, referred, DXA, PPV) and image counts.

People figures come from :mod:`screening.followup.figures`; image and file counts from
the per-day summary table (:func:`screening.queries.summarize`). Both for the same scope
and period, which the answer states.
"""

from __future__ import annotations

from flask import Response, g, request

from screening import queries
from screening.followup.figures import ProgramFigures, program_figures
from web.api import api
from web.api.params import choice_param, date_range, respond
from web.auth import api_login_required
from web.authz import visible_hospital_ids
from web.presenters import summary_json
from web.state import db


def summary_from_request(people: bool = True,
                         people_only: bool = False) -> tuple[queries.Summary, ProgramFigures | None]:
    """The summary the query string asks for, scoped to what the caller may see.

    ``people_only``: the page's view, without the daily image trend (the API keeps it).
    """
    level = choice_param("level", queries.LEVELS, default="hospital") or "hospital"
    start, end = date_range()
    district = request.args.get("district") or None
    region = request.args.get("region") or None
    visible = visible_hospital_ids(db(), g.user)
    summary = queries.summarize(db(), visible, level, start, end, district, region, with_trend=not people_only)
    figures = program_figures(db(), visible, level, start, end, district, region) if people else None
    return summary, figures


@api.get("/summary")
@api_login_required
def summary() -> Response:
    result, figures = summary_from_request()
    assert figures is not None
    return respond(summary_json(result, figures), result.model_version_ids)
