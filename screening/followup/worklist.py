"""The referral worklist: every referral the caller may see, filtered, sorted and paged, with its total.

What staff work from to call patients back and record what happened; the same
rows feed the page, the CSV export and the API (``web``), so they never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from screening.db.models import Batch, FollowUpState, Hospital, Image, Patient, Referral, RiskClass, User
from screening.listing import Sort, Window, fetch, string_contains
from screening.queries import HospitalIds, in_scope
from screening.vocabulary import CLASS_RANK

PSEUDONYM = re.compile(r"^P[0-9A-F]{20}$")
STATE_ORDER = {state: rank for rank, state in enumerate(FollowUpState)}
SORT_COLUMNS: dict[str, Any] = {
    "referred": Referral.referred_at,
    "risk": Referral.p_osteoporosis,
    "age": Referral.age_months,
    "class": case({risk.value: rank for risk, rank in CLASS_RANK.items()}, value=Referral.predicted_class),
    "state": case({state.value: rank for state, rank in STATE_ORDER.items()}, value=Referral.state),
    "changed": Referral.state_changed_at,
    "dxa": Referral.dxa_date,
    "t": Referral.t_lowest,
    "file": Image.filename,
    "hospital": Hospital.code,
    "cortical_index": Image.cortical_index,
}
DEFAULT_SORT = Sort("referred", descending=True)
TIEBREAK = (Referral.id.desc(),)


@dataclass(frozen=True)
class WorklistFilter:
    """What to show; empty fields do not filter."""

    states: tuple[FollowUpState, ...] = ()
    classes: tuple[RiskClass, ...] = ()
    sex: str | None = None
    referred_from: date | None = None
    referred_to: date | None = None
    batch_id: str | None = None
    hospital_id: int | None = None
    text: str | None = None  # a pseudonym, or part of a file name
    min_age_years: int | None = None
    max_age_years: int | None = None
    dxa: bool | None = None  # True: with a DXA result; False: without


@dataclass(frozen=True)
class WorklistRow:
    referral: Referral
    patient: Patient
    image: Image
    batch: Batch
    hospital: Hospital
    changed_by: str | None  # e-mail of who set the current state

    @property
    def age_years(self) -> float | None:
        months = self.referral.age_months
        return round(months / 12, 1) if months is not None else None


def _conditions(filters: WorklistFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.states:
        conditions.append(Referral.state.in_(list(filters.states)))
    if filters.classes:
        conditions.append(Referral.predicted_class.in_(list(filters.classes)))
    if filters.sex:
        conditions.append(Referral.sex == filters.sex)
    if filters.referred_from:
        conditions.append(Referral.referred_on >= filters.referred_from)
    if filters.referred_to:
        conditions.append(Referral.referred_on <= filters.referred_to)
    if filters.batch_id:
        conditions.append(Referral.batch_id == filters.batch_id)
    if filters.hospital_id is not None:
        conditions.append(Referral.hospital_id == filters.hospital_id)
    if filters.min_age_years is not None:
        conditions.append(Referral.age_months >= filters.min_age_years * 12)
    if filters.max_age_years is not None:
        conditions.append(Referral.age_months < (filters.max_age_years + 1) * 12)
    if filters.dxa is not None:
        conditions.append(Referral.dxa_date.is_not(None) if filters.dxa else Referral.dxa_date.is_(None))
    text = (filters.text or "").strip()
    if text:
        pseudonym = text.upper()
        conditions.append(Patient.pseudonym == pseudonym if PSEUDONYM.match(pseudonym)
                          else or_(string_contains(Image.filename, text), Patient.pseudonym.startswith(pseudonym)))
    return conditions


def worklist(session: Session, hospital_ids: HospitalIds, filters: WorklistFilter, sort: Sort = DEFAULT_SORT,
             window: Window | None = None) -> tuple[list[WorklistRow], int]:
    """The referrals in scope that pass ``filters``, in ``sort`` order, one ``window`` of them, and the total."""
    query = _rows().where(in_scope(Referral.hospital_id, hospital_ids), *_conditions(filters))
    rows, total = fetch(session, query, sort, SORT_COLUMNS, TIEBREAK, window)
    return [WorklistRow(*row) for row in rows], total


def _rows() -> Select:
    return (select(Referral, Patient, Image, Batch, Hospital, User.email)
            .join(Patient, Patient.id == Referral.patient_id)
            .join(Image, Image.id == Referral.image_id)
            .join(Batch, Batch.id == Referral.batch_id)
            .join(Hospital, Hospital.id == Referral.hospital_id)
            .outerjoin(User, User.id == Referral.state_changed_by))


def row_of(session: Session, referral: Referral) -> WorklistRow:
    """One referral as a worklist row (the caller has checked it may see it)."""
    return WorklistRow(*session.execute(_rows().where(Referral.id == referral.id)).one())


def referrals_of(session: Session, patient: Patient) -> list[Referral]:
    """A patient's referrals, newest first."""
    return list(session.scalars(select(Referral).where(Referral.patient_id == patient.id)
                                .order_by(Referral.referred_at.desc(), Referral.id.desc())))


def get_referral(session: Session, hospital_ids: HospitalIds, referral_id: int) -> Referral | None:
    return session.scalar(select(Referral).where(Referral.id == referral_id,
                                                 in_scope(Referral.hospital_id, hospital_ids)))


def state_counts(session: Session, hospital_ids: HospitalIds) -> dict[FollowUpState, int]:
    """How many referrals are in each state (for the worklist's state filter)."""
    counts = dict(session.execute(select(Referral.state, func.count()).where(
        in_scope(Referral.hospital_id, hospital_ids)).group_by(Referral.state)).all())
    return {state: int(counts.get(state, 0)) for state in FollowUpState}
