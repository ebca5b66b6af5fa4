"""Operating points a district can afford: where on P(osteoporosis) to refer, and what that costs.

A district sets its referral threshold, and optionally a lower one above which a patient
is offered a DXA if capacity allows (refer / DXA if capacity allows / no action). To choose,
the admin page shows for every candidate threshold:

* the referrals a month it would have made, from the last 90 days of the district's own
  screenings (each person screened once per batch, at their highest P(osteoporosis));
* sensitivity, specificity and PPV for osteoporosis (lowest DXA T <= -2.5) on the district's
  DXA-confirmed cases, with Wilson 95 % intervals, once there are enough of them. Only
  referred people get a DXA, so below the lowest threshold anyone was referred at, nothing
  is known about the people not referred: those rows say so instead of printing numbers.

Every batch is judged by the operating point in force when its screening starts (kept on the
batch and on every result), so a change affects new batches only, and is audited with why.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from screening.accounts import audit
from screening.db.models import Batch, Hospital, OperatingPoint, Prediction, Referral, User
from screening.followup.dxa import OSTEOPOROSIS_MAX_T
from screening.followup.figures import wilson

CANDIDATES = tuple(round(0.05 * step, 2) for step in range(2, 19))  # 0.10 .. 0.90
LOOKBACK_DAYS = 90
MIN_CONFIRMED = 20  # DXA-confirmed cases before sensitivity and specificity are shown
MIN_EACH = 5  # ... of them at least this many with and without osteoporosis
REFER, CAPACITY, NONE = "refer", "capacity", "none"


class OperatingPointError(ValueError):
    """Thresholds that cannot be set as given; the message says why."""


@dataclass(frozen=True)
class Thresholds:
    refer: float
    capacity: float | None = None
    point_id: int | None = None

    def tier(self, p_osteoporosis: float) -> str:
        """refer, capacity (DXA if capacity allows) or none."""
        if p_osteoporosis >= self.refer:
            return REFER
        if self.capacity is not None and p_osteoporosis >= self.capacity:
            return CAPACITY
        return NONE

    def judge(self, row: dict[str, Any]) -> dict[str, Any]:
        """A prediction row judged by these thresholds: its tier, referral, and the thresholds themselves."""
        tier = self.tier(float(row["p_osteoporosis"]))
        return {**row, "tier": tier, "referred": tier == REFER, "refer_threshold": self.refer,
                "capacity_threshold": self.capacity, "operating_point_id": self.point_id}


def active_point(session: Session, district: str) -> OperatingPoint | None:
    return session.scalar(select(OperatingPoint).where(OperatingPoint.district == district,
                                                       OperatingPoint.active.is_(True))
                          .order_by(OperatingPoint.id.desc()).limit(1))


def set_point(session: Session, district: str, refer: float, capacity: float | None, user: User, reason: str,
              ip: str | None = None) -> OperatingPoint:
    """Make (refer, capacity) the district's operating point from the next batch on; audited with ``reason``."""
    if not session.scalar(select(func.count()).select_from(Hospital).where(Hospital.district == district)):
        raise OperatingPointError(f"no hospital is in district {district!r}")
    if not 0 < refer < 1:
        raise OperatingPointError("the referral threshold must be between 0 and 1")
    if capacity is not None and not 0 < capacity < refer:
        raise OperatingPointError("the 'if capacity allows' threshold must be above 0 and below the referral one")
    if not reason.strip():
        raise OperatingPointError("say why (it is kept with the change)")
    previous = active_point(session, district)
    session.execute(update(OperatingPoint).where(OperatingPoint.district == district).values(active=False))
    point = OperatingPoint(district=district, refer_threshold=refer, capacity_threshold=capacity, active=True,
                           set_by=user.id, set_at=datetime.now(UTC), reason=reason.strip()[:1000])
    session.add(point)
    session.flush()
    audit(session, "operating_point.set", user_id=user.id, target_type="district", target_id=district, ip=ip,
          refer=refer, capacity=capacity, reason=point.reason, previous=previous.id if previous else None,
          point=point.id)
    return point


def history(session: Session, district: str) -> list[OperatingPoint]:
    return list(session.scalars(select(OperatingPoint).where(OperatingPoint.district == district)
                                .order_by(OperatingPoint.set_at.desc(), OperatingPoint.id.desc())))


def batch_thresholds(session: Session, batch_id: str, model_refer: float) -> Thresholds:
    """The thresholds the batch is judged by: fixed on the batch when its screening starts.

    The district's active operating point, else the model card's referral threshold. Set
    once (a conditional UPDATE, like the batch's model), so a redelivered chunk or a change
    of operating point mid-batch never judges two images of one batch differently.
    """
    batch = session.get_one(Batch, batch_id)
    if batch.refer_threshold is None:
        district = session.scalar(select(Hospital.district).where(Hospital.id == batch.hospital_id))
        point = active_point(session, district) if district else None
        values = ({"refer_threshold": point.refer_threshold, "capacity_threshold": point.capacity_threshold,
                   "operating_point_id": point.id} if point else
                  {"refer_threshold": model_refer, "capacity_threshold": None, "operating_point_id": None})
        session.execute(update(Batch).where(Batch.id == batch_id, Batch.refer_threshold.is_(None)).values(**values))
        session.refresh(batch)
    assert batch.refer_threshold is not None
    return Thresholds(batch.refer_threshold, batch.capacity_threshold, batch.operating_point_id)


# -- what a setting would mean --------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One threshold: referrals it makes a month, and how it does on the DXA-confirmed cases."""

    threshold: float
    per_month: float
    sensitivity: float | None = None
    sensitivity_ci: tuple[float, float] | None = None
    specificity: float | None = None
    specificity_ci: tuple[float, float] | None = None
    ppv: float | None = None
    ppv_ci: tuple[float, float] | None = None
    referred: int = 0  # DXA-confirmed cases at or above the threshold
    known: bool = False  # False: below the lowest threshold anyone was referred at (nothing known below)


@dataclass(frozen=True)
class Evidence:
    screened: int  # people-screenings in the lookback
    days: int
    confirmed: int  # DXA-confirmed cases
    confirmed_positive: int
    lowest_referred_at: float | None
    candidates: list[Candidate]
    risks: tuple[float, ...] = ()  # each person-screening's P(osteoporosis) in the lookback, sorted

    def per_month(self, low: float, high: float | None = None) -> float:
        """People a month with P(osteoporosis) from ``low`` up to (not including) ``high``."""
        count = len(self.risks) - bisect.bisect_left(self.risks, low)
        if high is not None:
            count -= len(self.risks) - bisect.bisect_left(self.risks, high)
        return count * 30 / self.days

    @property
    def enough(self) -> bool:
        return (self.confirmed >= MIN_CONFIRMED and self.confirmed_positive >= MIN_EACH
                and self.confirmed - self.confirmed_positive >= MIN_EACH)


def evidence(session: Session, district: str, now: datetime | None = None,
             thresholds: tuple[float, ...] = CANDIDATES) -> Evidence:
    """Referrals a month and DXA-confirmed performance at each threshold, from the district's own results."""
    now = now or datetime.now(UTC)
    hospitals = select(Hospital.id).where(Hospital.district == district)
    # One value per person and batch (their highest P(osteoporosis)), with the batch's own model.
    highest = (select(func.max(Prediction.p_osteoporosis))
               .join(Batch, (Batch.id == Prediction.batch_id) & (Batch.model_version_id == Prediction.model_version_id))
               .where(Prediction.hospital_id.in_(hospitals), Batch.created_at >= now - timedelta(days=LOOKBACK_DAYS),
                      Prediction.patient_id.is_not(None))
               .group_by(Prediction.patient_id, Prediction.batch_id))
    risks = sorted(float(p) for p in session.scalars(highest))
    confirmed = session.execute(select(Referral.p_osteoporosis, Referral.t_lowest, Referral.refer_threshold)
                                .where(Referral.hospital_id.in_(hospitals), Referral.t_lowest.is_not(None))).all()
    positives = sorted(float(p) for p, t, _ in confirmed if t is not None and t <= OSTEOPOROSIS_MAX_T)
    negatives = sorted(float(p) for p, t, _ in confirmed if t is not None and t > OSTEOPOROSIS_MAX_T)
    referred_at = [float(r) for _, _, r in confirmed if r is not None]
    lowest = min(referred_at) if referred_at else None
    enough = (len(confirmed) >= MIN_CONFIRMED and len(positives) >= MIN_EACH and len(negatives) >= MIN_EACH)
    candidates = []
    for threshold in thresholds:
        at_least = len(risks) - bisect.bisect_left(risks, threshold)
        per_month = at_least * 30 / LOOKBACK_DAYS
        known = lowest is not None and threshold >= lowest
        if not (enough and known):
            candidates.append(Candidate(threshold, per_month, known=known))
            continue
        tp = len(positives) - bisect.bisect_left(positives, threshold)
        fp = len(negatives) - bisect.bisect_left(negatives, threshold)
        tn = len(negatives) - fp
        candidates.append(Candidate(
            threshold, per_month, sensitivity=tp / len(positives), sensitivity_ci=wilson(tp, len(positives)),
            specificity=tn / len(negatives), specificity_ci=wilson(tn, len(negatives)),
            ppv=tp / (tp + fp) if tp + fp else None, ppv_ci=wilson(tp, tp + fp), referred=tp + fp, known=True))
    return Evidence(screened=len(risks), days=LOOKBACK_DAYS, confirmed=len(confirmed),
                    confirmed_positive=len(positives), lowest_referred_at=lowest, candidates=candidates,
                    risks=tuple(risks))
