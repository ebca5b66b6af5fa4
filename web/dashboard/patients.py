"""Patient pages: screened patients (filtered, sorted, paged), finding one, and one patient's history."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from screening import queries
from screening.followup.worklist import referrals_of
from web.api.patients import patient_filter
from web.auth import login_required
from web.authz import search_pseudonyms, visible_hospital_ids, visible_patient
from web.charts import line_chart
from web.dashboard import dashboard
from web.listing import PER_PAGE_CHOICES, Pager, page_window, sort_param
from web.state import db

PAGE_SIZE = 50


@dashboard.get("/patients")
@login_required
def patients() -> str:
    filters = patient_filter()
    window = page_window(PAGE_SIZE)
    sort = sort_param(tuple(queries.PATIENT_SORTS), queries.PATIENT_DEFAULT_SORT)
    visible = visible_hospital_ids(db(), g.user)
    rows, total = queries.list_patients(db(), visible, window, filters, sort)
    hospitals = queries.hospitals_in_scope(db(), visible)
    return render_template("patients.html", patients=rows, pager=Pager(total, window, sort), args=request.args,
                           referred_only=filters.referred_only, hospitals=hospitals if len(hospitals) > 1 else [],
                           per_page_choices=PER_PAGE_CHOICES)


@dashboard.post("/patients/find")
@login_required
def find_patient() -> Response:
    """Open a patient by pseudonym or (staff) by their hospital's patient id.

    A POST, so a patient id typed here never appears in a URL, a server log or the
    browser history; the answer is a redirect to the patient's page (by pseudonym).
    """
    text = request.form.get("q", "")
    found = queries.find_patients(db(), visible_hospital_ids(db(), g.user), search_pseudonyms(db(), g.user, text))
    if len(found) == 1:
        if request.form.get("target") == "referral":
            referrals = referrals_of(db(), found[0])
            if referrals:
                return redirect(url_for("dashboard.referral_page", referral_id=referrals[0].id))
        return redirect(url_for("dashboard.patient_page", pseudonym=found[0].pseudonym))
    flash("No patient of yours has this id or pseudonym." if text.strip() else "Type an id or a pseudonym.",
          "error")
    return redirect(request.form.get("back") if _same_site(request.form.get("back")) else url_for("dashboard.patients"))


def _same_site(target: str | None) -> bool:
    return bool(target) and target.startswith("/") and not target.startswith("//")


@dashboard.get("/patients/<pseudonym>")
@login_required
def patient_page(pseudonym: str) -> str:
    patient = visible_patient(pseudonym)
    entries = queries.patient_history(db(), patient)
    labels = [e.prediction.created_at.strftime("%Y-%m-%d") for e in entries]
    chart = line_chart(labels, {"P(osteoporosis)": [e.prediction.p_osteoporosis for e in entries],
                                "P(osteopenia)": [e.prediction.p_osteopenia for e in entries]},
                       "Risk over time", colours=("#d1242f", "#9a6700"), percent=True)
    outside = queries.patient_not_eligible(db(), patient)
    return render_template("patient.html", patient=patient, entries=entries, chart=chart, not_eligible=outside,
                           measured=queries.patient_measurements(db(), patient))
