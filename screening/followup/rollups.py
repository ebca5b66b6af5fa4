"""The tables figures by people are read from, kept up to date as batches finish and referrals move.

* ``patient_screenings``: one row per person and batch (their overall result), with the
  day of their previous screening, written when a batch finishes;
* ``people_daily_summaries`` / ``people_rescreens``: people screened per hospital and day,
  and the share of them screened before (by the day of that earlier screening);
* ``referral_daily_summaries`` / ``dxa_waits``: referrals per hospital and day opened,
  what became of them, and the days each DXA took;
* ``people_weekly_summaries`` / ``referral_weekly_summaries``: the day tables summed per ISO
  week, so a year of figures reads 53 rows a hospital.

Every refresh recomputes whole (hospital, day) rows from the source rows, never increments,
so a redelivered task or a retried request gives the same numbers; it first locks the
hospitals' rows, so two refreshes of one hospital never interleave (PostgreSQL; SQLite
writes one at a time anyway). ``rebuild`` recomputes everything (``osteo figures rebuild``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, Select, and_, case, cast, delete, func, insert, literal, select, tuple_
from sqlalchemy.orm import Session

from screening.db.models import (
    BAND_CELLS,
    CELLS,
    PEOPLE_COUNTS,
    REFERRAL_COUNTS,
    REFERRAL_MEASURES,
    WAIT_COUNTS,
    Batch,
    FollowUpState,
    Hospital,
    Image,
    Patient,
    PatientScreening,
    Prediction,
    Referral,
    RiskClass,
    dxa_waits,
    people_daily,
    people_rescreens,
    people_weekly,
    referral_daily,
    referral_weekly,
)
from screening.followup.bands import age_band, age_band_sql
from screening.followup.dxa import NORMAL_MIN_T, OSTEOPOROSIS_MAX_T
from screening.results import overall_result
from screening.rollups import summary_day
from screening.upserts import insert_ignore

logger = logging.getLogger(__name__)
Key = tuple[int, Any]  # (hospital id, day)
MAX_WAIT_DAYS = 730  # a longer wait is counted as 730 days


# -- people screened -----------------------------------------------------------------------


def record_screenings(session: Session, batch_id: str) -> set[Key]:
    """Write the batch's people (overall result per patient) and their previous-screening days.

    Returns the (hospital, day) rows of the people tables that changed: the batch's day, and
    the days of later screenings of the same people whose "previous screening" moved (a batch
    that arrives after a newer one).
    """
    batch = session.get_one(Batch, batch_id)
    rows = session.execute(
        select(Prediction, Image.age_months, Image.sex, Patient.sex)
        .join(Image, Image.id == Prediction.image_id).join(Patient, Patient.id == Prediction.patient_id)
        .where(Prediction.batch_id == batch_id, Prediction.model_version_id == batch.model_version_id)).all()
    people: dict[int, list[tuple[Prediction, int | None, str | None, str | None]]] = {}
    for prediction, age, image_sex, patient_sex in rows:
        people.setdefault(prediction.patient_id or 0, []).append((prediction, age, image_sex, patient_sex))
    day = summary_day(batch.created_at)
    values = []
    for patient_id, items in sorted(people.items()):
        overall = overall_result([item[0] for item in items])
        assert overall is not None
        ages = [age for _, age, _, _ in items if age is not None]
        sex = items[0][3] or next((s for _, _, s, _ in items if s), None)
        values.append(dict(hospital_id=batch.hospital_id, patient_id=patient_id, batch_id=batch_id,
                           screened_at=batch.created_at, day=day, sex=sex,
                           age_band=age_band(max(ages) if ages else None),
                           predicted_class=RiskClass(overall.predicted_class).value,
                           referred=any(item[0].referred for item in items), prev_day=None))
    insert_ignore(session, PatientScreening, values, ("patient_id", "batch_id"), update=True)
    changed = _previous_days(session, list(people))
    return changed | ({(batch.hospital_id, day)} if values else set())


def _previous_days(session: Session, patient_ids: list[int]) -> set[Key]:
    """Set every screening's ``prev_day`` for these patients; return the (hospital, day) of those that changed."""
    changed: set[Key] = set()
    if not patient_ids:
        return changed
    previous: dict[int, Any] = {}
    for screening in session.scalars(select(PatientScreening).where(PatientScreening.patient_id.in_(patient_ids))
                                     .order_by(PatientScreening.patient_id, PatientScreening.screened_at,
                                               PatientScreening.batch_id)):
        prev = previous.get(screening.patient_id)
        if screening.prev_day != prev:
            screening.prev_day = prev
            changed.add((screening.hospital_id, screening.day))
        previous[screening.patient_id] = screening.day
    session.flush()
    return changed


def _count_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _people_counts() -> list[Any]:
    s = PatientScreening
    columns = [func.count().label("screened")]
    columns += [_count_where(s.predicted_class == risk.value).label(risk.value) for risk in RiskClass]
    columns += [_count_where(s.sex == cell.upper()).label(f"screened_{cell}") for cell in ("f", "m")]
    columns += [_count_where(s.age_band == band).label(f"screened_{band}") for band in BAND_CELLS]
    assert [c.name for c in columns] == list(PEOPLE_COUNTS)
    return columns


def week_start(session: Session, day: Any) -> Any:
    """SQL for the Monday of a date column's week (the backends spell date arithmetic differently)."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(day, "weekday 0", "-6 days")
    return day - cast(func.extract("isodow", day), Integer) + 1


def _people_selects(session: Session, conditions: list[Any]) -> tuple[Select, Select]:
    s = PatientScreening
    week = week_start(session, s.day).label("week")
    daily = (select(s.hospital_id, s.day, week, *_people_counts()).where(*conditions)
             .group_by(s.hospital_id, s.day))
    again = (select(s.hospital_id, s.day, s.prev_day, week, *_people_counts())
             .where(*conditions, s.prev_day.is_not(None)).group_by(s.hospital_id, s.day, s.prev_day))
    return daily, again


def refresh_people(session: Session, keys: Iterable[Key]) -> None:
    """Recompute the people tables' rows for these (hospital, day) keys."""
    keys = sorted(set(keys))
    if not keys:
        return
    lock_hospitals(session, {hospital for hospital, _ in keys})
    for chunk in _chunks(keys):
        for table in (people_daily, people_rescreens):
            session.execute(delete(table).where(tuple_(table.c.hospital_id, table.c.day).in_(chunk)))
        daily, again = _people_selects(session, [tuple_(PatientScreening.hospital_id,
                                                        PatientScreening.day).in_(chunk)])
        _insert_from(session, people_daily, daily)
        _insert_from(session, people_rescreens, again)
    _refresh_weeks(session, people_daily, people_weekly, PEOPLE_COUNTS, people_daily.c.day, keys)


# -- referrals ---------------------------------------------------------------------------


def _cell_condition(cell: str) -> Any:
    if cell in ("f", "m"):
        return Referral.sex == cell.upper()
    return age_band_sql(Referral.age_months) == cell


def _referral_counts() -> list[Any]:
    r = Referral
    measures = {"referred": literal(True), "dxa_done": r.t_lowest.is_not(None),
                "t_osteoporosis": r.t_lowest <= OSTEOPOROSIS_MAX_T, "t_low_bone_mass": r.t_lowest <= NORMAL_MIN_T}
    assert tuple(measures) == REFERRAL_MEASURES
    columns = [_count_where(condition).label(name) for name, condition in measures.items()]
    columns += [_count_where(r.state == FollowUpState.DECLINED.value).label("declined"),
                _count_where(r.state == FollowUpState.LOST.value).label("lost")]
    columns += [_count_where(and_(condition, _cell_condition(cell))).label(f"{name}_{cell}")
                for name, condition in measures.items() for cell in CELLS]
    assert [c.name for c in columns] == list(REFERRAL_COUNTS)
    return columns


def _wait_days(session: Session) -> Any:
    """Days from referral to DXA as an SQL integer, at most MAX_WAIT_DAYS (date arithmetic differs by backend)."""
    if session.get_bind().dialect.name == "sqlite":
        days = cast(func.julianday(Referral.dxa_date) - func.julianday(Referral.referred_on), Integer)
        return func.min(days, MAX_WAIT_DAYS)
    return func.least(Referral.dxa_date - Referral.referred_on, MAX_WAIT_DAYS)


def _referral_selects(session: Session, conditions: list[Any]) -> tuple[Select, Select]:
    r = Referral
    daily = (select(r.hospital_id, r.referred_on, week_start(session, r.referred_on).label("week"),
                    *_referral_counts()).where(*conditions).group_by(r.hospital_id, r.referred_on))
    days = _wait_days(session).label("days")
    waits = [func.count().label("waited"), *(_count_where(_cell_condition(cell)).label(f"waited_{cell}")
                                            for cell in CELLS)]
    assert [c.name for c in waits] == list(WAIT_COUNTS)
    waited = (select(r.hospital_id, r.referred_on, days, *waits).where(*conditions, r.dxa_date.is_not(None))
              .group_by(r.hospital_id, r.referred_on, days))
    return daily, waited


def refresh_referrals(session: Session, keys: Iterable[Key]) -> None:
    """Recompute the referral tables' rows for these (hospital, day opened) keys."""
    keys = sorted(set(keys))
    if not keys:
        return
    lock_hospitals(session, {hospital for hospital, _ in keys})
    for chunk in _chunks(keys):
        for table in (referral_daily, dxa_waits):
            session.execute(delete(table).where(tuple_(table.c.hospital_id, table.c.referred_on).in_(chunk)))
        daily, waited = _referral_selects(session, [tuple_(Referral.hospital_id, Referral.referred_on).in_(chunk)])
        _insert_from(session, referral_daily, daily)
        _insert_from(session, dxa_waits, waited)
    _refresh_weeks(session, referral_daily, referral_weekly, REFERRAL_COUNTS, referral_daily.c.referred_on, keys)


def _weeks_select(daily: Any, names: tuple[str, ...], conditions: list[Any]) -> Select:
    return (select(daily.c.hospital_id, daily.c.week, *(func.sum(daily.c[name]).label(name) for name in names))
            .where(*conditions).group_by(daily.c.hospital_id, daily.c.week))


def _refresh_weeks(session: Session, daily: Any, weekly: Any, names: tuple[str, ...], day: Any,
                   keys: list[Key]) -> None:
    """Recompute the week rows holding these (hospital, day) keys from the day rows."""
    weeks = sorted({(hospital, _monday(on)) for hospital, on in keys})
    for chunk in _chunks(weeks):
        session.execute(delete(weekly).where(tuple_(weekly.c.hospital_id, weekly.c.week).in_(chunk)))
        _insert_from(session, weekly, _weeks_select(daily, names, [tuple_(daily.c.hospital_id,
                                                                          daily.c.week).in_(chunk)]))


def _monday(day: Any) -> date:
    day = day if isinstance(day, date) else date.fromisoformat(str(day))
    return day - timedelta(days=day.weekday())


# -- all of it ---------------------------------------------------------------------------


def rebuild(session: Session) -> dict[str, int]:
    """Recompute every figure table from the screenings and referrals (after an upgrade, or to repair)."""
    for batch_id in list(session.scalars(select(Batch.id).where(Batch.model_version_id.is_not(None))
                                         .order_by(Batch.created_at))):
        record_screenings(session, batch_id)
    return rebuild_tables(session)


def rebuild_tables(session: Session) -> dict[str, int]:
    """Recompute the day tables from ``patient_screenings`` and ``referrals`` in four INSERT ... SELECTs."""
    for table in (people_daily, people_rescreens, people_weekly, referral_daily, referral_weekly, dxa_waits):
        session.execute(delete(table))
    daily, again = _people_selects(session, [])
    _insert_from(session, people_daily, daily)
    _insert_from(session, people_rescreens, again)
    _insert_from(session, people_weekly, _weeks_select(people_daily, PEOPLE_COUNTS, []))
    referrals, waited = _referral_selects(session, [])
    _insert_from(session, referral_daily, referrals)
    _insert_from(session, dxa_waits, waited)
    _insert_from(session, referral_weekly, _weeks_select(referral_daily, REFERRAL_COUNTS, []))
    counts = {name: session.scalar(select(func.count()).select_from(table)) or 0 for name, table in (
        ("patient_screenings", PatientScreening.__table__), ("people_daily_summaries", people_daily),
        ("referral_daily_summaries", referral_daily), ("dxa_waits", dxa_waits))}
    logger.info("figures rebuilt: %s", counts)
    return counts


def lock_hospitals(session: Session, hospital_ids: set[int]) -> None:
    """Hold the hospitals' rows until commit, so refreshes of one hospital run one after the other."""
    session.execute(select(Hospital.id).where(Hospital.id.in_(sorted(hospital_ids)))
                    .order_by(Hospital.id).with_for_update())


def _insert_from(session: Session, table: Any, query: Select) -> None:
    session.execute(insert(table).from_select([c.name for c in query.selected_columns], query))


def _chunks(keys: list[Key], size: int = 500) -> Iterable[list[Key]]:
    for start in range(0, len(keys), size):
        yield keys[start:start + size]
