"""Health officials' overview: figures by people (screened, referred, DXA, PPV) by place, sex and age band,
the weekly trend, drill-down from region to district to hospital, CSV export."""

from __future__ import annotations

import io

from flask import Response, g, render_template, request, url_for

from screening import queries
from screening.csvsafe import safe_writer
from screening.followup.figures import Figures, ProgramFigures, program_figures
from screening.listing import Window
from web.api.params import choice_param, date_range
from web.api.summary import summary_from_request
from web.auth import login_required
from web.authz import visible_hospital_ids
from web.charts import line_chart
from web.dashboard import dashboard
from web.errors import not_found
from web.presenters import DISCLAIMER, iso
from web.state import db

RECENT_BATCHES = 10
CSV_COLUMNS = ("key", "label", "district", "region", "hospitals", "files", "rejected", "screened", "normal",
               "osteopenia", "osteoporosis", "referred", "referral_rate", "rejection_rate",
               "not_eligible")
# People figures, after the image counts above (kept first for existing readers of this CSV).
PEOPLE_COLUMNS = ("people_screened", "people_referred", "people_referral_rate", "dxa_done", "dxa_uptake",
                  "ppv_osteoporosis", "ppv_osteoporosis_low", "ppv_osteoporosis_high", "ppv_low_bone_mass",
                  "ppv_low_bone_mass_low", "ppv_low_bone_mass_high", "median_days_to_dxa", "declined",
                  "lost_to_follow_up")
TABLES = ("places", "sex", "age", "weekly")
DRILL = {"region": "district", "district": "hospital"}


def _weekly_chart(figures: ProgramFigures) -> str:
    labels = [week.start.isoformat() for week in figures.weekly]
    return line_chart(labels, {"people screened": [w.people_screened for w in figures.weekly],
                               "people referred": [w.people_referred for w in figures.weekly],
                               "DXA done": [w.dxa_done for w in figures.weekly]},
                      "People per week", colours=("#1f6feb", "#d1242f", "#2da44e"), markers=True)


def drill_url(group: Figures, level: str) -> str:
    """Where a row of the places table leads: region -> its districts -> their hospitals -> one hospital."""
    dates = {k: v for k, v in (("from", request.args.get("from")), ("to", request.args.get("to"))) if v}
    if level == "hospital":
        return url_for("dashboard.hospital_page", code=group.key, **dates)
    area = {"region": group.key} if level == "region" else {"district": group.key}
    return url_for("dashboard.overview", level=DRILL[level], **area, **dates)


@dashboard.get("/overview")
@login_required
def overview() -> str:
    summary, figures = summary_from_request(people_only=True)
    assert figures is not None
    hospitals = queries.hospitals_in_scope(db(), visible_hospital_ids(db(), g.user))
    versions = queries.model_versions_by_id(db(), summary.model_version_ids)
    return render_template(
        "overview.html", summary=summary, figures=figures, chart=_weekly_chart(figures), args=request.args,
        districts=sorted({h.district for h in hospitals}), regions=sorted({h.region for h in hospitals}),
        versions=list(versions.values()), drill_url=drill_url, tables=TABLES)


def _number(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _people_cells(figures: Figures) -> list[object]:
    low, high = figures.ppv_osteoporosis_ci or (None, None)
    low_b, high_b = figures.ppv_low_bone_mass_ci or (None, None)
    median = figures.median_days_to_dxa
    return [figures.people_screened, figures.people_referred, _number(figures.referral_rate), figures.dxa_done,
            _number(figures.uptake), _number(figures.ppv_osteoporosis), _number(low), _number(high),
            _number(figures.ppv_low_bone_mass), _number(low_b), _number(high_b),
            "" if median is None else f"{median:g}", figures.declined, figures.lost]


@dashboard.get("/overview.csv")
@login_required
def overview_csv() -> Response:
    """``table``: places (default: image counts and people figures per group), sex, age or weekly."""
    table = choice_param("table", TABLES, default="places") or "places"
    summary, figures = summary_from_request(people_only=True)
    assert figures is not None
    out = io.StringIO()
    period = f"{iso(figures.start) or 'start'} to {iso(figures.end) or 'today'}"
    out.write(f"# {DISCLAIMER} Period {period}; hospitals {' '.join(figures.hospital_codes) or 'none'}; "
              f"model versions: {', '.join(summary.model_version_ids) or 'none'}\n")
    writer = safe_writer(out)
    if table == "places":
        people = {group.key: group for group in figures.groups}
        writer.writerow(CSV_COLUMNS + PEOPLE_COLUMNS)
        for group in summary.groups:
            writer.writerow([group.key, group.label, group.district or "", group.region or "", group.hospitals,
                             group.files, group.rejected, group.screened, group.normal, group.osteopenia,
                             group.osteoporosis, group.referred,
                             "" if group.referral_rate is None else f"{group.referral_rate:.4f}",
                             "" if group.rejection_rate is None else f"{group.rejection_rate:.4f}",
                             group.not_eligible, *_people_cells(people[group.key])])
    elif table == "weekly":
        writer.writerow(("week", "people_screened", "people_referred", "dxa_done"))
        for week in figures.weekly:
            writer.writerow([week.start.isoformat(), week.people_screened, week.people_referred, week.dxa_done])
    else:
        writer.writerow(("key", "label", *PEOPLE_COLUMNS))
        for group in figures.by_sex if table == "sex" else figures.by_age:
            writer.writerow([group.key, group.label, *_people_cells(group)])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="osteo-summary-{summary.level}-{table}.csv"'
    return response


@dashboard.get("/hospitals/<code>")
@login_required
def hospital_page(code: str) -> str:
    visible = visible_hospital_ids(db(), g.user)
    hospital = next((h for h in queries.hospitals_in_scope(db(), visible) if h.code == code.strip().upper()), None)
    if hospital is None:
        raise not_found(f"no hospital {code!r} that you can see")
    start, end = date_range()
    summary = queries.summarize(db(), frozenset({hospital.id}), "hospital", start, end, with_trend=False)
    figures = program_figures(db(), frozenset({hospital.id}), "hospital", start, end)
    batches, total = queries.list_batches(db(), visible, Window(RECENT_BATCHES),
                                          queries.BatchFilter(hospital_id=hospital.id))
    return render_template("hospital.html", hospital=hospital, summary=summary, group=summary.total,
                           figures=figures, people=figures.total, chart=_weekly_chart(figures), batches=batches,
                           total=total, args=request.args)
