"""Opening referrals when a batch finishes, and the follow-up staff record on them.

A referral opens for each patient the batch refers (any image at or above the
referral threshold) unless the patient already has an open one: one referral is
one thing to do for one person. It keeps the screening that opened it (batch, the
image of the patient's overall result, class, P(osteoporosis), model version and
threshold), so it reads the same whatever is screened later. State changes and DXA
results are written with who and when, as a :class:`ReferralEvent` (shown on the
referral) and an :class:`AuditEvent`, in the caller's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from screening.accounts import audit
from screening.db.models import (
    Batch,
    FollowUpState,
    Image,
    ModelVersion,
    Patient,
    Prediction,
    Referral,
    ReferralEvent,
    RiskClass,
    User,
)
from screening.followup.dxa import DxaResult
from screening.followup.rollups import refresh_referrals
from screening.followup.states import OPEN_STATES, TransitionError, check_transition
from screening.results import overall_result
from screening.rollups import summary_day

logger = logging.getLogger(__name__)
NOTE_CHARS = 1000


def open_referrals(session: Session, batch_id: str) -> int:
    """Open a referral for every patient the batch refers who has none open; returns how many opened.

    Idempotent: a redelivered finalize finds the referrals it opened (one per patient and batch).
    """
    batch = session.get_one(Batch, batch_id)
    by_patient: dict[int, list[Prediction]] = {}
    for prediction in session.scalars(select(Prediction).where(
            Prediction.batch_id == batch_id, Prediction.model_version_id == batch.model_version_id,
            Prediction.patient_id.is_not(None))):
        by_patient.setdefault(prediction.patient_id or 0, []).append(prediction)
    # The threshold the batch was judged by (its district's operating point), else the model card's.
    threshold = batch.refer_threshold if batch.refer_threshold is not None else \
        _refer_threshold(session, batch.model_version_id)
    opened = 0
    for patient_id, predictions in sorted(by_patient.items()):
        if not any(p.referred for p in predictions) or _has_referral(session, patient_id, batch_id):
            continue
        overall = overall_result(predictions)
        assert overall is not None  # every prediction has a class
        image = session.get_one(Image, overall.image_id)
        patient = session.get_one(Patient, patient_id)
        referral = Referral(
            hospital_id=batch.hospital_id, patient_id=patient_id, batch_id=batch_id, image_id=image.id,
            prediction_id=overall.id, model_version_id=batch.model_version_id, refer_threshold=threshold,
            referred_at=batch.created_at, referred_on=summary_day(batch.created_at),
            predicted_class=RiskClass(overall.predicted_class), p_osteoporosis=overall.p_osteoporosis,
            age_months=image.age_months, sex=patient.sex or image.sex, state=FollowUpState.TO_CONTACT,
            state_on=summary_day(batch.created_at), state_changed_at=batch.created_at)
        session.add(referral)
        session.flush()
        session.add(ReferralEvent(referral_id=referral.id, kind="opened", to_state=FollowUpState.TO_CONTACT.value,
                                  happened_on=referral.referred_on, at=batch.created_at))
        opened += 1
    logger.info("batch=%s referrals opened=%d", batch_id, opened)
    return opened


def _has_referral(session: Session, patient_id: int, batch_id: str) -> bool:
    """The patient already has this batch's referral, or one still being worked."""
    return session.scalar(select(Referral.id).where(
        Referral.patient_id == patient_id,
        or_(Referral.batch_id == batch_id, Referral.state.in_(list(OPEN_STATES)))).limit(1)) is not None


def _refer_threshold(session: Session, version_id: str | None) -> float | None:
    from screening.model.card import REFER_THRESHOLD_KEY

    version = session.get(ModelVersion, version_id) if version_id else None
    value = ((version.card or {}).get("thresholds") or {}).get(REFER_THRESHOLD_KEY) if version else None
    return float(value) if isinstance(value, (int, float)) else None


def _now() -> datetime:
    return datetime.now(UTC)


def _checked_day(on: date | None, referral: Referral, today: date) -> date:
    """The day a step happened: today unless told; never in the future or before the referral."""
    on = on or today
    if on > today:
        raise TransitionError(f"the date {on} is in the future")
    if on < referral.referred_on:
        raise TransitionError(f"the date {on} is before the referral ({referral.referred_on})")
    return on


def change_state(session: Session, referral: Referral, target: FollowUpState, user: User, on: date | None = None,
                 note: str = "", ip: str | None = None) -> ReferralEvent:
    """Move ``referral`` to ``target`` (TransitionError when not allowed), with who, when and why."""
    check_transition(FollowUpState(referral.state), target)
    now = _now()
    day = _checked_day(on, referral, now.date())
    event = ReferralEvent(referral_id=referral.id, at=now, user_id=user.id, kind="state",
                          from_state=FollowUpState(referral.state).value, to_state=target.value, happened_on=day,
                          note=note.strip()[:NOTE_CHARS])
    referral.state, referral.state_on, referral.state_changed_at, referral.state_changed_by = target, day, now, user.id
    session.add(event)
    session.flush()
    refresh_referrals(session, {(referral.hospital_id, referral.referred_on)})
    audit(session, "referral.state", user_id=user.id, target_type="referral", target_id=str(referral.id), ip=ip,
          from_state=event.from_state, to_state=event.to_state, on=day.isoformat(), event=event.id)
    return event


def record_dxa(session: Session, referral: Referral, result: DxaResult, user: User, note: str = "",
               ip: str | None = None, source: str = "form") -> ReferralEvent:
    """Record (or correct) the referral's DXA result; the referral is then 'DXA done' on the DXA's date."""
    now = _now()
    previous = _dxa_values(referral) if referral.dxa_date is not None else None
    values = {"dxa_date": result.dxa_date, "dxa_device": result.device, "t_femoral_neck": result.t_femoral_neck,
              "t_total_hip": result.t_total_hip, "t_lumbar_spine": result.t_lumbar_spine, "t_lowest": result.t_lowest}
    event = ReferralEvent(referral_id=referral.id, at=now, user_id=user.id, kind="dxa",
                          from_state=FollowUpState(referral.state).value, to_state=FollowUpState.DXA_DONE.value,
                          happened_on=result.dxa_date, note=note.strip()[:NOTE_CHARS],
                          details={**_json(values), "who_class": result.who_class, "source": source,
                                   **({"replaces": previous} if previous else {})})
    for name, value in values.items():
        setattr(referral, name, value)
    referral.dxa_recorded_at, referral.dxa_recorded_by = now, user.id
    referral.state, referral.state_on = FollowUpState.DXA_DONE, result.dxa_date
    referral.state_changed_at, referral.state_changed_by = now, user.id
    session.add(event)
    session.flush()
    refresh_referrals(session, {(referral.hospital_id, referral.referred_on)})
    audit(session, "referral.dxa", user_id=user.id, target_type="referral", target_id=str(referral.id), ip=ip,
          event=event.id, source=source, corrected=previous is not None)
    return event


def _dxa_values(referral: Referral) -> dict[str, object]:
    return _json({name: getattr(referral, name) for name in (
        "dxa_date", "dxa_device", "t_femoral_neck", "t_total_hip", "t_lumbar_spine")})


def _json(values: Mapping[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def history(session: Session, referral: Referral) -> list[ReferralEvent]:
    """The referral's events, oldest first."""
    return list(session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                                .order_by(ReferralEvent.at, ReferralEvent.id)))
