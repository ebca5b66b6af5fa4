"""The referral worklist staff work from: filter, sort, page, export; record follow-up and DXA results.

Rows, filters and sorting are those of the API (:mod:`web.api.referrals`), so the page,
its CSV and ``/api/v1/referrals`` always agree. Every change is audited.
"""

from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from screening.db.models import FollowUpState, RiskClass
from screening.followup import worklist as wl
from screening.followup.dxa import SITES, DxaError, dxa_result, parse_date
from screening.followup.dxa_import import DxaImportError
from screening.followup.referrals import change_state, history, record_dxa
from screening.followup.states import SETTABLE, STATE_LABELS, TransitionError, parse_state
from screening.queries import hospitals_in_scope
from web.api.referrals import (
    run_import,
    visible_referral,
    worklist_csv,
    worklist_filter,
    writable_referral,
)
from web.auth import login_required
from web.authz import may_record_follow_up, visible_hospital_ids
from web.dashboard import dashboard
from web.listing import PER_PAGE_CHOICES, Pager, page_window, sort_param
from web.state import db

PAGE_SIZE = 50


def _back(default: str) -> str:
    target = request.form.get("back") or ""
    return target if target.startswith("/") and not target.startswith("//") else default


@dashboard.get("/referrals")
@login_required
def referrals() -> str:
    filters = worklist_filter(default_open=True)
    sort = sort_param(tuple(wl.SORT_COLUMNS), wl.DEFAULT_SORT)
    window = page_window(PAGE_SIZE)
    visible = visible_hospital_ids(db(), g.user)
    rows, total = wl.worklist(db(), visible, filters, sort, window)
    hospitals = hospitals_in_scope(db(), visible)
    return render_template(
        "referrals.html", rows=rows, pager=Pager(total, window, sort), filters=filters, args=request.args,
        counts=wl.state_counts(db(), visible), states=list(FollowUpState), state_labels=STATE_LABELS,
        settable=SETTABLE, classes=[r.value for r in RiskClass], hospitals=hospitals if len(hospitals) > 1 else [],
        per_page_choices=PER_PAGE_CHOICES, today=date.today().isoformat(),
        can_write=lambda hospital_id: may_record_follow_up(g.user, hospital_id))


@dashboard.get("/referrals.csv")
@login_required
def referrals_csv():  # type: ignore[no-untyped-def]
    filters = worklist_filter(default_open=True)
    sort = sort_param(tuple(wl.SORT_COLUMNS), wl.DEFAULT_SORT)
    rows, _ = wl.worklist(db(), visible_hospital_ids(db(), g.user), filters, sort, None)
    return worklist_csv(rows, f"referrals-{date.today().isoformat()}.csv")


@dashboard.get("/referrals/<id:referral_id>")
@login_required
def referral_page(referral_id: int) -> str:
    referral = visible_referral(referral_id)
    return render_template("referral.html", row=wl.row_of(db(), referral), events=history(db(), referral),
                           settable=[s for s in SETTABLE if s != referral.state], state_labels=STATE_LABELS,
                           sites=SITES, today=date.today().isoformat(),
                           can_write=may_record_follow_up(g.user, referral.hospital_id))


def _on() -> date | None:
    raw = (request.form.get("on") or "").strip()
    return parse_date(raw, "date") if raw else None


@dashboard.post("/referrals/<id:referral_id>/state")
@login_required
def referral_state(referral_id: int) -> Response:
    referral = writable_referral(referral_id)
    try:
        target = parse_state(request.form.get("state"))
        change_state(db(), referral, target, g.user, _on(), request.form.get("note", ""), ip=request.remote_addr)
    except (TransitionError, DxaError) as exc:
        db().rollback()
        flash(f"Referral #{referral_id}: {exc}.", "error")
    else:
        db().commit()
        flash(f"Referral #{referral_id} is now '{STATE_LABELS[target]}'.", "info")
    return redirect(_back(url_for("dashboard.referral_page", referral_id=referral_id)))


@dashboard.post("/referrals/<id:referral_id>/dxa")
@login_required
def referral_dxa(referral_id: int) -> Response:
    referral = writable_referral(referral_id)
    try:
        result = dxa_result(request.form, referral.referred_on, date.today())
    except DxaError as exc:
        flash(f"DXA result not recorded: {exc}.", "error")
    else:
        record_dxa(db(), referral, result, g.user, note=request.form.get("note", ""), ip=request.remote_addr)
        db().commit()
        flash(f"DXA result recorded: lowest T-score {result.t_lowest:+.1f} ({result.who_class}).", "info")
    return redirect(url_for("dashboard.referral_page", referral_id=referral_id))


@dashboard.route("/referrals/import", methods=["GET", "POST"])
@login_required
def referrals_import() -> Response | str | tuple[str, int]:
    if not may_record_follow_up(g.user, g.user.hospital_id):
        flash("Only hospital staff (and admins) record DXA results.", "error")
        return redirect(url_for("dashboard.referrals"))
    if request.method == "GET":
        return render_template("referrals_import.html", problems=None, sites=SITES)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Choose a CSV file of DXA results.", "error")
        return render_template("referrals_import.html", problems=None, sites=SITES), 400
    try:
        outcome = run_import(upload.read())
    except DxaImportError as exc:
        db().rollback()
        return render_template("referrals_import.html", problems=exc.problems, sites=SITES), 422
    flash(f"{outcome['recorded']} DXA results recorded, {outcome['unchanged']} already recorded.", "info")
    return redirect(url_for("dashboard.referrals", state="all", dxa="with", sort="-changed"))
