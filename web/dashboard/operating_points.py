"""Admin: each district's operating point (refer / DXA if capacity allows / no action), what it would
cost and how it does on the district's DXA-confirmed cases, and who changed it, when and why."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from screening.db.models import Hospital
from screening.followup import operating_points as op
from web.auth import admin_required
from web.dashboard import dashboard
from web.errors import not_found
from web.state import db


def _districts() -> list[tuple[str, str, int]]:
    return [(district, region, int(count)) for district, region, count in db().execute(
        select(Hospital.district, func.min(Hospital.region), func.count()).group_by(Hospital.district)
        .order_by(func.min(Hospital.region), Hospital.district))]


@dashboard.get("/admin/operating-points")
@admin_required
def admin_operating_points() -> str:
    districts = _districts()
    current = {district: op.active_point(db(), district) for district, _, _ in districts}
    chosen = request.args.get("district") or None
    if chosen is not None and chosen not in current:
        raise not_found(f"no district {chosen!r}")
    evidence = op.evidence(db(), chosen) if chosen else None
    return render_template("admin_operating_points.html", districts=districts, current=current, chosen=chosen,
                           evidence=evidence, history=op.history(db(), chosen) if chosen else [],
                           minimum=(op.MIN_CONFIRMED, op.MIN_EACH))


def _number(name: str) -> float | None:
    raw = (request.form.get(name) or "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise op.OperatingPointError(f"{name.replace('_', ' ')} must be a number, got {raw[:20]!r}") from None


@dashboard.post("/admin/operating-points")
@admin_required
def admin_set_operating_point() -> Response:
    district = (request.form.get("district") or "").strip()
    try:
        refer = _number("refer_threshold")
        if refer is None:
            raise op.OperatingPointError("give the referral threshold")
        point = op.set_point(db(), district, refer, _number("capacity_threshold"), g.user,
                             request.form.get("reason", ""), ip=request.remote_addr)
    except op.OperatingPointError as exc:
        db().rollback()
        flash(f"Not changed: {exc}.", "error")
    else:
        db().commit()
        capacity = f", DXA if capacity allows from {point.capacity_threshold:.2f}" if point.capacity_threshold else ""
        flash(f"{district}: refer from P(osteoporosis) {point.refer_threshold:.2f}{capacity}, for batches "
              "screened from now on.", "info")
    return redirect(url_for("dashboard.admin_operating_points", district=district or None))
