"""Turning rows into the JSON the API returns and the values the pages show.

One module for both, so a page and the API never disagree about a batch's
progress or a summary's rates. Every result names its model version(s) and
carries the screening-aid disclaimer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import g, url_for

from screening.db.models import (
    Batch,
    BatchStatus,
    DicomDelivery,
    FollowUpState,
    Image,
    ModelVersion,
    Patient,
    ReferralEvent,
    Report,
    RiskClass,
)
from screening.followup.dxa import who_class
from screening.followup.figures import Figures, ProgramFigures
from screening.followup.states import state_label
from screening.followup.worklist import WorklistRow
from screening.identity import identifier_for, identity_cipher
from screening.queries import HistoryEntry, ResultRow, Summary, SummaryGroup, active_model_version
from screening.vocabulary import (
    DISCLAIMER,
    MEASUREMENT_NOTE,
    MEASUREMENT_VIEW,
    QUALITY_LABELS,
    SCREENABLE,
    batch_status_label,
    class_short_label,
    is_finished,
)
from web.state import db, state


def iso(moment: date | datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def identifier_of(patient: Patient | None) -> str | None:
    """The hospital's own id of ``patient`` when the caller is staff of that hospital, else None."""
    return identifier_for(identity_cipher(state().settings), g.get("user"), patient)


def model_version_json(version: ModelVersion | None, version_id: str | None = None) -> dict[str, Any] | None:
    if version is None:
        return {"id": version_id, "name": None} if version_id else None
    return {"id": version.id, "name": version.name}


def progress(batch: Batch) -> float:
    """A 0..1 fraction over the batch's stages: ingest 10 %, screening 70 %, reports 20 %."""
    if is_finished(batch.status):
        return 1.0
    if batch.status is BatchStatus.QUEUED:
        return 0.0
    if batch.status is BatchStatus.INGESTING:
        return 0.05
    if batch.status is BatchStatus.SCREENING:
        done = batch.screened + batch.failed
        return round(0.1 + 0.7 * (done / batch.accepted if batch.accepted else 1.0), 3)
    done = batch.reported / batch.reports_total if batch.reports_total else 1.0
    return round(0.8 + 0.2 * done, 3)


def batch_json(batch: Batch, versions: dict[str, ModelVersion]) -> dict[str, Any]:
    links = {
        "self": url_for("api.get_batch", batch_id=batch.id),
        "results": url_for("api.batch_results", batch_id=batch.id),
        "results_csv": url_for("api.batch_results", batch_id=batch.id, format="csv"),
        "problems": url_for("api.batch_problems", batch_id=batch.id),
        "page": url_for("dashboard.batch_page", batch_id=batch.id),
    }
    if batch.summary_key:
        links["summary"] = url_for("api.batch_summary_document", batch_id=batch.id)
    return {
        "id": batch.id,
        "hospital": {"code": batch.hospital.code, "name": batch.hospital.name},
        "status": batch.status.value,
        "finished": is_finished(batch.status),
        "progress": progress(batch),
        "filename": batch.original_filename,
        "created_at": iso(batch.created_at),
        "started_at": iso(batch.started_at),
        "finished_at": iso(batch.finished_at),
        "counts": {name: getattr(batch, name) for name in (
            "files_total", "accepted", "rejected", "duplicates", "not_eligible", "screened", "failed", "reported",
            "reports_total", "chunks_total")},
        "errors": batch.error.splitlines() if batch.error else [],  # bounded summary; all in links.problems
        "problems_total": batch.problems_total,
        "model_version": model_version_json(versions.get(batch.model_version_id or ""), batch.model_version_id),
        "links": links,
    }


def delivery_json(delivery: DicomDelivery) -> dict[str, Any]:
    """One destination's delivery of a batch's results: state, tries, reason, and how to resend it."""
    destination = delivery.destination
    return {
        "id": delivery.id,
        "destination": {"name": destination.name, "kind": destination.kind.value, "address": destination.address},
        "state": delivery.state.value,
        "attempts": delivery.attempts,
        "objects": delivery.objects,
        "reason": delivery.reason,
        "next_attempt_at": iso(delivery.next_attempt_at),
        "sent_at": iso(delivery.sent_at),
        "links": {"resend": url_for("api.resend_delivery", batch_id=delivery.batch_id, delivery_id=delivery.id)},
    }


def result_json(row: ResultRow, reports: dict[int, Report]) -> dict[str, Any]:
    image, prediction, patient = row.image, row.prediction, row.patient
    report = reports.get(patient.id) if patient else None
    links: dict[str, str] = {}
    if prediction is not None:
        links.update({name: url_for("api.overlay", image_id=image.id, colormap=name)
                      for name in sorted(prediction.overlay_keys or {})})
    links.update(measurement_links(image))
    if report is not None and report.error is None:
        links.update(report_links(report))
    if patient is not None:
        links["patient"] = url_for("api.get_patient", pseudonym=patient.pseudonym)
    return {
        "image_id": image.id,
        "filename": image.filename,
        "quality": image.quality.value,
        "reason": image.quality_reason or None,
        "error": image.error,
        # False: the patient is outside the screening population (never screened, never negative); None: not judged.
        "eligible": image.eligible,
        "eligibility_reason": image.eligibility_reason,
        "class": prediction.predicted_class.value if prediction else None,
        "probabilities": ({"normal": prediction.p_normal, "osteopenia": prediction.p_osteopenia,
                           "osteoporosis": prediction.p_osteoporosis} if prediction else None),
        "referred": prediction.referred if prediction else None,
        # refer / capacity (DXA if capacity allows) / none, and the thresholds it was judged by.
        "tier": prediction.tier if prediction else None,
        "thresholds": ({"refer": prediction.refer_threshold, "capacity": prediction.capacity_threshold}
                       if prediction is not None and prediction.refer_threshold is not None else None),
        "patient": patient.pseudonym if patient else None,
        # The hospital's own patient id: only for that hospital's staff, None for everyone else.
        "hospital_patient_id": identifier_of(patient),
        "model_version": prediction.model_version_id if prediction else None,
        **measurement_json(image),
        "links": links,
    }


def measurement_json(image: Image) -> dict[str, Any]:
    """The metacarpal measurement of an image (eligible or not); every value None when not attempted.

    ``measurement`` carries the literature index (BHI, only with a known pixel spacing), the
    spacing used and the per-bone values, in ``unit`` (mm or px), with lines in the file's pixels.
    """
    stored = image.measurement or {}
    return {
        "measured": image.measured,
        "cortical_index": image.cortical_index,
        "cortical_thickness_mm": image.cortical_thickness_mm,
        "measurement_reason": stored.get("reason") or None,
        "radiogrammetry_version": image.radiogrammetry_version,
        "measurement": {key: stored.get(key) for key in ("index_name", "index_value", "pixel_spacing_mm", "bones")}
                       if image.measurement else None,
    }


def measurement_links(image: Image) -> dict[str, str]:
    if not image.measurement_overlay_key:
        return {}
    return {"measurement_overlay": url_for("api.overlay", image_id=image.id, colormap=MEASUREMENT_VIEW)}


def report_links(report: Report) -> dict[str, str]:
    links = {}
    if report.pdf_key:
        links["report_pdf"] = url_for("api.report", report_id=report.id, fmt="pdf")
    if report.html_key:
        links["report_html"] = url_for("api.report", report_id=report.id, fmt="html")
    return links


def history_json(patient: Patient, entries: list[HistoryEntry], not_eligible: list[Image]) -> dict[str, Any]:
    return {
        "pseudonym": patient.pseudonym,
        "hospital_patient_id": identifier_of(patient),
        "hospital": {"code": patient.hospital.code, "name": patient.hospital.name},
        "sex": patient.sex,
        "latest": {
            "class": patient.latest_class.value if patient.latest_class else None,
            "p_osteoporosis": patient.latest_risk,
            "referred": patient.latest_referred,
            "screened_at": iso(patient.latest_screened_at),
            "model_version": patient.latest_model_version_id,
        },
        "history": [{
            "screened_at": iso(e.prediction.created_at),
            "batch": e.batch.id,
            "filename": e.image.filename,
            "study_date": iso(e.image.study_date),
            "age_years": round(e.image.age_months / 12, 1) if e.image.age_months is not None else None,
            "class": e.prediction.predicted_class.value,
            "probabilities": {"normal": e.prediction.p_normal, "osteopenia": e.prediction.p_osteopenia,
                              "osteoporosis": e.prediction.p_osteoporosis},
            "referred": e.prediction.referred,
            "model_version": e.prediction.model_version_id,
            **measurement_json(e.image),
            "links": {**{name: url_for("api.overlay", image_id=e.image.id, colormap=name)
                         for name in sorted(e.prediction.overlay_keys or {})},
                      **measurement_links(e.image),
                      **(report_links(e.report) if e.report and e.report.error is None else {})},
        } for e in entries],
        # Images outside the screening population: no class, no referral, never counted as negative.
        "not_eligible": [{
            "batch": image.batch_id,
            "filename": image.filename,
            "study_date": iso(image.study_date),
            "age_years": round(image.age_months / 12, 1) if image.age_months is not None else None,
            "reason": image.eligibility_reason,
            **measurement_json(image),
            "links": measurement_links(image),
        } for image in not_eligible],
    }


def referral_json(row: WorklistRow) -> dict[str, Any]:
    """One referral of the worklist: who (pseudonym; the hospital's id for its staff), what, and its follow-up."""
    referral = row.referral
    dxa = None
    if referral.dxa_date is not None and referral.t_lowest is not None:
        dxa = {"date": iso(referral.dxa_date), "device": referral.dxa_device,
               "t_femoral_neck": referral.t_femoral_neck, "t_total_hip": referral.t_total_hip,
               "t_lumbar_spine": referral.t_lumbar_spine, "t_lowest": referral.t_lowest,
               "who_class": who_class(referral.t_lowest), "recorded_at": iso(referral.dxa_recorded_at)}
    return {
        "id": referral.id,
        "hospital": {"code": row.hospital.code, "name": row.hospital.name},
        "patient": row.patient.pseudonym,
        "hospital_patient_id": identifier_of(row.patient),
        "age_years": row.age_years,
        "sex": referral.sex,
        "file": row.image.filename,
        "image_id": row.image.id,
        # The metacarpal cortical index measured on the image (no category; None when not measured).
        "cortical_index": round(row.image.cortical_index, 4) if row.image.cortical_index is not None else None,
        "batch": {"id": row.batch.id, "filename": row.batch.original_filename},
        "referred_on": iso(referral.referred_on),
        "class": RiskClass(referral.predicted_class).value,
        "p_osteoporosis": round(referral.p_osteoporosis, 4),
        "model_version": referral.model_version_id,
        "refer_threshold": referral.refer_threshold,
        "state": FollowUpState(referral.state).value,
        "state_label": state_label(referral.state),
        "state_on": iso(referral.state_on),
        "state_changed_at": iso(referral.state_changed_at),
        "state_changed_by": row.changed_by,
        "dxa": dxa,
        "links": {"self": url_for("api.get_referral", referral_id=referral.id),
                  "page": url_for("dashboard.referral_page", referral_id=referral.id),
                  "patient": url_for("api.get_patient", pseudonym=row.patient.pseudonym)},
    }


def referral_event_json(event: ReferralEvent) -> dict[str, Any]:
    return {"at": iso(event.at), "by": event.user.email if event.user else None, "kind": event.kind,
            "from_state": event.from_state, "to_state": event.to_state, "on": iso(event.happened_on),
            "note": event.note or None, "details": event.details or {}}


def rate(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def group_json(group: SummaryGroup) -> dict[str, Any]:
    body: dict[str, Any] = {"key": group.key, "label": group.label}
    if group.district is not None:
        body["district"] = group.district
    if group.region is not None:
        body["region"] = group.region
    body.update({
        "hospitals": group.hospitals, "files": group.files, "rejected": group.rejected,
        "not_eligible": group.not_eligible, "screened": group.screened,
        "classes": {"normal": group.normal, "osteopenia": group.osteopenia, "osteoporosis": group.osteoporosis},
        "distribution": {k: rate(v) for k, v in group.distribution().items()},
        "referred": group.referred,
        "referral_rate": rate(group.referral_rate),
        "rejection_rate": rate(group.rejection_rate),
    })
    return body


def interval(value: tuple[float, float] | None) -> list[float] | None:
    return [round(value[0], 4), round(value[1], 4)] if value else None


def people_json(figures: Figures) -> dict[str, Any]:
    """The people-based figures of one group (place, sex, age band or total)."""
    median = figures.median_days_to_dxa
    body: dict[str, Any] = {
        "people_screened": figures.people_screened,
        "people_referred": figures.people_referred,
        "people_referral_rate": rate(figures.referral_rate),
        "dxa_done": figures.dxa_done,
        "dxa_uptake": rate(figures.uptake),
        "dxa_uptake_ci95": interval(figures.uptake_ci),
        "ppv_osteoporosis": rate(figures.ppv_osteoporosis),
        "ppv_osteoporosis_ci95": interval(figures.ppv_osteoporosis_ci),
        "ppv_low_bone_mass": rate(figures.ppv_low_bone_mass),
        "ppv_low_bone_mass_ci95": interval(figures.ppv_low_bone_mass_ci),
        "median_days_to_dxa": median,
        "declined": figures.declined,
        "lost_to_follow_up": figures.lost,
    }
    if figures.classes:
        body["people_by_class"] = {risk: figures.classes.get(risk, 0) for risk in ("normal", "osteopenia",
                                                                                    "osteoporosis")}
    return body


def summary_json(summary: Summary, figures: ProgramFigures) -> dict[str, Any]:
    """Scope, period, the people figures (top level: the whole scope) and, per group, people and image counts."""
    people = {group.key: group for group in figures.groups}
    total = people_json(figures.total)
    return {
        "scope": {"level": summary.level, "district": figures.district, "region": figures.region,
                  "hospitals": figures.hospital_codes},
        "period": {"from": iso(figures.start), "to": iso(figures.end)},
        **{name: total[name] for name in ("people_screened", "people_referred", "dxa_done", "ppv_osteoporosis",
                                          "ppv_low_bone_mass")},
        "level": summary.level,
        "from": iso(summary.start),
        "to": iso(summary.end),
        # Per group: image counts (screened, referred, ...: images) and people figures (people_*, dxa_*, ppv_*).
        "total": {**group_json(summary.total), **total},
        "groups": [{**group_json(group), **people_json(people[group.key])} for group in summary.groups],
        "by_sex": [{"key": f.key, "label": f.label, **people_json(f)} for f in figures.by_sex],
        "by_age_band": [{"key": f.key, "label": f.label, **people_json(f)} for f in figures.by_age],
        "weekly": [{"week": iso(w.start), "people_screened": w.people_screened, "people_referred": w.people_referred,
                    "dxa_done": w.dxa_done} for w in figures.weekly],
        "trend": [{**row, "day": iso(row["day"])} for row in summary.trend],
    }


def current_model_version() -> ModelVersion | None:
    if "active_model" not in g:
        g.active_model = active_model_version(db())
    return g.active_model


def template_globals() -> dict[str, Any]:
    return {"disclaimer": DISCLAIMER, "measurement_note": MEASUREMENT_NOTE,
            "active_model": current_model_version(), "current_user": g.get("user"),
            "class_label": class_short_label, "status_label": batch_status_label,
            "quality_label": QUALITY_LABELS.__getitem__, "screenable": SCREENABLE,
            "progress": progress, "identifier_of": identifier_of, "state_label": state_label,
            "who_class": who_class,
            "pct": lambda v: "–" if v is None else f"{100 * v:.1f} %"}
