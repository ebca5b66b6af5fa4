"""The referral worklist in the API: list (JSON or CSV), one referral with its history, state, DXA, DXA import.

The same filters, sorting and rows as the page (``/referrals``), from
:mod:`screening.followup.worklist`. Writes are for the hospital's own staff and admins
(:func:`web.authz.may_record_follow_up`); every write is audited.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from flask import Response, g, request

from screening.csvsafe import safe_writer
from screening.db.models import FollowUpState, Referral, RiskClass
from screening.followup import worklist as wl
from screening.followup.dxa import DxaError, dxa_result, parse_date
from screening.followup.dxa_import import DxaImportError, import_dxa_csv
from screening.followup.referrals import change_state, history, record_dxa
from screening.followup.states import OPEN_STATES, TransitionError, parse_state
from web.api import api
from web.api.params import choice_param, date_param, int_param, page_json, respond
from web.auth import api_login_required
from web.authz import hospital_param, may_record_follow_up, search_pseudonyms, visible_hospital_ids
from web.errors import Problem, bad_request, forbidden, not_found
from web.listing import api_window, sort_param
from web.presenters import DISCLAIMER, referral_event_json, referral_json
from web.state import db

CSV_COLUMNS = ("referral_id", "hospital", "hospital_patient_id", "pseudonym", "age_years", "sex", "file", "batch",
               "referred_on", "class", "p_osteoporosis", "cortical_index", "state", "state_on", "state_changed_by",
               "dxa_date", "dxa_device", "t_femoral_neck", "t_total_hip", "t_lumbar_spine", "t_lowest", "dxa_who_class",
               "model_version", "refer_threshold")


def worklist_filter(default_open: bool) -> wl.WorklistFilter:
    """The worklist filters of the query string (400 on a bad value), scoped by the caller's hospitals."""
    states = _states(request.args.getlist("state"), default_open)
    classes = tuple(RiskClass(value) for value in _choices("class", [r.value for r in RiskClass]))
    hospital = hospital_param()
    hospital_id = hospital.id if hospital else None
    dxa = choice_param("dxa", ["with", "without"])
    start, end = date_param("from"), date_param("to")
    return wl.WorklistFilter(
        states=states, classes=classes, sex=choice_param("sex", ["F", "M"]), referred_from=start, referred_to=end,
        batch_id=request.args.get("batch") or None, hospital_id=hospital_id,
        text=(request.args.get("q") or "").strip()[:128] or None,
        min_age_years=int_param("age_min", -1, 0, 130) if request.args.get("age_min") else None,
        max_age_years=int_param("age_max", -1, 0, 130) if request.args.get("age_max") else None,
        dxa=None if dxa is None else dxa == "with")


def _choices(name: str, allowed: list[str]) -> list[str]:
    values = [v for v in request.args.getlist(name) if v]
    bad = [v for v in values if v not in allowed]
    if bad:
        raise bad_request(f"'{name}' must be among {', '.join(allowed)}, got {bad[0][:40]!r}")
    return values


def _states(values: list[str], default_open: bool) -> tuple[FollowUpState, ...]:
    values = [v for v in values if v]
    if not values:
        return tuple(sorted(OPEN_STATES, key=list(FollowUpState).index)) if default_open else ()
    if values == ["all"]:
        return ()
    if values == ["open"]:
        return tuple(sorted(OPEN_STATES, key=list(FollowUpState).index))
    try:
        return tuple(FollowUpState(v) for v in values)
    except ValueError:
        names = ", ".join(["open", "all", *(s.value for s in FollowUpState)])
        raise bad_request(f"'state' must be among {names}") from None


def worklist_csv(rows: list[wl.WorklistRow], filename: str) -> Response:
    out = io.StringIO()
    versions = sorted({row.referral.model_version_id for row in rows if row.referral.model_version_id})
    out.write(f"# {DISCLAIMER} Model versions: {', '.join(versions) or 'none'}\n")
    writer = safe_writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        body = referral_json(row)
        dxa = body["dxa"] or {}
        writer.writerow([body["id"], body["hospital"]["code"], body["hospital_patient_id"] or "", body["patient"],
                         _cell(body["age_years"]), body["sex"] or "", body["file"], body["batch"]["id"],
                         body["referred_on"], body["class"], f"{body['p_osteoporosis']:.4f}",
                         _cell(body["cortical_index"]), body["state"],
                         body["state_on"], body["state_changed_by"] or "", dxa.get("date") or "",
                         dxa.get("device") or "", _cell(dxa.get("t_femoral_neck")), _cell(dxa.get("t_total_hip")),
                         _cell(dxa.get("t_lumbar_spine")), _cell(dxa.get("t_lowest")), dxa.get("who_class") or "",
                         body["model_version"] or "", _cell(body["refer_threshold"])])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


@api.get("/referrals")
@api_login_required
def list_referrals() -> Response:
    filters = worklist_filter(default_open=False)
    sort = sort_param(tuple(wl.SORT_COLUMNS), wl.DEFAULT_SORT)
    visible = visible_hospital_ids(db(), g.user)
    if choice_param("format", ["json", "csv"]) == "csv":
        rows, _ = wl.worklist(db(), visible, filters, sort, None)
        return worklist_csv(rows, "referrals.csv")
    window = api_window()
    rows, total = wl.worklist(db(), visible, filters, sort, window)
    body = page_json([referral_json(row) for row in rows], total, window.limit, window.offset)
    body["sort"] = sort.param
    return respond(body, [row.referral.model_version_id for row in rows])


def visible_referral(referral_id: int) -> Referral:
    referral = wl.get_referral(db(), visible_hospital_ids(db(), g.user), referral_id)
    if referral is None:
        raise not_found(f"no referral {referral_id} that you can see")
    return referral


def writable_referral(referral_id: int) -> Referral:
    referral = visible_referral(referral_id)
    if not may_record_follow_up(g.user, referral.hospital_id):
        raise forbidden("only the hospital's staff (and admins) record follow-up")
    return referral


def one_referral_json(referral: Referral) -> dict[str, Any]:
    row = wl.row_of(db(), referral)
    return {**referral_json(row), "history": [referral_event_json(e) for e in history(db(), referral)]}


@api.get("/referrals/<id:referral_id>")
@api_login_required
def get_referral(referral_id: int) -> Response:
    referral = visible_referral(referral_id)
    return respond(one_referral_json(referral), [referral.model_version_id])


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("send a JSON object")
    return body


def _day(raw: object) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return parse_date(raw, "date")
    except DxaError as exc:
        raise bad_request(str(exc)) from None


@api.post("/referrals/<id:referral_id>/state")
@api_login_required
def set_referral_state(referral_id: int) -> Response:
    """Body ``{"state": "contacted", "on": "2024-03-04", "note": "..."}`` (``on`` defaults to today)."""
    referral = writable_referral(referral_id)
    body = _json_body()
    try:
        change_state(db(), referral, parse_state(str(body.get("state") or "")), g.user, _day(body.get("on")),
                     str(body.get("note") or ""), ip=request.remote_addr)
    except TransitionError as exc:
        db().rollback()
        raise Problem(422, "Not allowed", str(exc)) from None
    db().commit()
    return respond(one_referral_json(referral), [referral.model_version_id])


@api.put("/referrals/<id:referral_id>/dxa")
@api_login_required
def set_referral_dxa(referral_id: int) -> Response:
    """Body ``{"dxa_date", "device", "t_femoral_neck", "t_total_hip", "t_lumbar_spine", "note"}``."""
    referral = writable_referral(referral_id)
    body = _json_body()
    try:
        result = dxa_result(body, referral.referred_on, date.today())
    except DxaError as exc:
        raise Problem(422, "Invalid DXA result", str(exc)) from None
    record_dxa(db(), referral, result, g.user, note=str(body.get("note") or ""), ip=request.remote_addr,
               source="api")
    db().commit()
    return respond(one_referral_json(referral), [referral.model_version_id])


def run_import(data: bytes) -> dict[str, Any]:
    """Import a DXA CSV for the caller (staff: their hospital; admins: all); DxaImportError lists every problem."""
    if not may_record_follow_up(g.user, g.user.hospital_id):
        raise forbidden("only hospital staff (and admins) record DXA results")
    outcome = import_dxa_csv(db(), data, visible_hospital_ids(db(), g.user),
                             lambda text: search_pseudonyms(db(), g.user, text), g.user, date.today(),
                             ip=request.remote_addr)
    db().commit()
    return {"recorded": outcome.recorded, "unchanged": outcome.unchanged, "referrals": outcome.referral_ids}


@api.post("/referrals/dxa-import")
@api_login_required
def import_dxa() -> Response:
    """A CSV of DXA results, as the raw body (text/csv) or the multipart field 'file'; all rows or none."""
    upload = request.files.get("file")
    data = upload.read() if upload is not None else request.get_data()
    try:
        body = run_import(data)
    except DxaImportError as exc:
        db().rollback()
        raise Problem(422, "DXA results not imported", str(exc),
                      problems=[{"line": line, "problem": text} for line, text in exc.problems]) from None
    return respond(body, [])
