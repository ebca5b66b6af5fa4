"""Health officials' overview: hospitals' screening figures, trends, drill-down, CSV export."""

from __future__ import annotations

import io

from flask import Response, g, render_template, request

from screening import queries
from screening.csvsafe import safe_writer
from screening.listing import Window
from web.api.params import date_range
from web.api.summary import summary_from_request
from web.auth import login_required
from web.authz import visible_hospital_ids
from web.charts import line_chart
from web.dashboard import dashboard
from web.errors import not_found
from web.presenters import DISCLAIMER
from web.state import db

RECENT_BATCHES = 10
CSV_COLUMNS = ("key", "label", "district", "region", "hospitals", "files", "rejected", "screened", "normal",
               "osteopenia", "osteoporosis", "referred", "referral_rate", "rejection_rate",
               "not_eligible")


def _trend_chart(summary: queries.Summary) -> str:
    labels = [row["day"].isoformat() for row in summary.trend]
    return line_chart(labels, {"screened": [row["screened"] for row in summary.trend],
                               "referred": [row["referred"] for row in summary.trend]}, "Screenings per day")


@dashboard.get("/overview")
@login_required
def overview() -> str:
    summary = summary_from_request()
    hospitals = queries.hospitals_in_scope(db(), visible_hospital_ids(db(), g.user))
    versions = queries.model_versions_by_id(db(), summary.model_version_ids)
    return render_template(
        "overview.html", summary=summary, chart=_trend_chart(summary), args=request.args,
        districts=sorted({h.district for h in hospitals}), regions=sorted({h.region for h in hospitals}),
        versions=list(versions.values()))


@dashboard.get("/overview.csv")
@login_required
def overview_csv() -> Response:
    summary = summary_from_request()
    out = io.StringIO()
    out.write(f"# {DISCLAIMER} Model versions: {', '.join(summary.model_version_ids) or 'none'}\n")
    writer = safe_writer(out)
    writer.writerow(CSV_COLUMNS)
    for group in summary.groups:
        writer.writerow([group.key, group.label, group.district or "", group.region or "", group.hospitals,
                         group.files, group.rejected, group.screened, group.normal, group.osteopenia,
                         group.osteoporosis, group.referred,
                         "" if group.referral_rate is None else f"{group.referral_rate:.4f}",
                         "" if group.rejection_rate is None else f"{group.rejection_rate:.4f}",
                         group.not_eligible])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="osteo-summary-{summary.level}.csv"'
    return response


@dashboard.get("/hospitals/<code>")
@login_required
def hospital_page(code: str) -> str:
    visible = visible_hospital_ids(db(), g.user)
    hospital = next((h for h in queries.hospitals_in_scope(db(), visible) if h.code == code.strip().upper()), None)
    if hospital is None:
        raise not_found(f"no hospital {code!r} that you can see")
    summary = queries.summarize(db(), frozenset({hospital.id}), "hospital", *date_range())
    batches, total = queries.list_batches(db(), visible, Window(RECENT_BATCHES),
                                          queries.BatchFilter(hospital_id=hospital.id))
    return render_template("hospital.html", hospital=hospital, summary=summary, group=summary.total,
                           chart=_trend_chart(summary), batches=batches, total=total, args=request.args)
