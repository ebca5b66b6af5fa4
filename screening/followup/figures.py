"""The figures officials read, counted by people: screened, referred, DXA done, uptake, PPV, days to DXA.

* people screened: each person once in the period (their screenings whose previous one
  was before the period; ``people_rescreens`` holds what to take away);
* people referred: referrals opened in the period (a person gets a new one only after the
  last one closed); DXA done, uptake (DXA done / referred) and the positive predictive
  value among those with a DXA result: lowest T-score <= -2.5 (osteoporosis) and <= -1.0
  (low bone mass or worse), each with a Wilson 95 % interval; median days from referral to DXA;
by hospital, district or region, by sex and by 10-year age band at screening, with a
weekly trend. Read from the small per-day tables (screening.followup.rollups), never from
predictions or referrals, so a year of a nation's figures is a handful of narrow scans.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from screening.db.models import (
    BAND_CELLS,
    CELLS,
    PEOPLE_COUNTS,
    REFERRAL_COUNTS,
    REFERRAL_MEASURES,
    SEX_CELLS,
    WAIT_COUNTS,
    Hospital,
    dxa_waits,
    people_daily,
    people_rescreens,
    people_weekly,
    referral_daily,
    referral_weekly,
)
from screening.followup.bands import BAND_LABELS, SEX_LABELS
from screening.queries import LEVELS, HospitalIds, filtered_hospitals

Z95 = 1.959964


def wilson(successes: int, trials: int) -> tuple[float, float] | None:
    """Wilson score 95 % interval of a proportion (None without trials)."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + Z95**2 / trials
    centre = (p + Z95**2 / (2 * trials)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / trials + Z95**2 / (4 * trials**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def median(counts: Counter[int]) -> float | None:
    """The median of values given as {value: how many}."""
    n = sum(counts.values())
    if n == 0:
        return None
    ordered = sorted(counts.items())

    def nth(k: int) -> int:  # 0-based
        seen = 0
        for value, count in ordered:
            seen += count
            if k < seen:
                return value
        return ordered[-1][0]

    return float(nth((n - 1) // 2)) if n % 2 else (nth(n // 2 - 1) + nth(n // 2)) / 2


@dataclass
class Figures:
    """Figures of one group (a place, a sex, an age band, or everything in scope)."""

    key: str
    label: str
    district: str | None = None
    region: str | None = None
    hospital_id: int | None = None
    hospitals: int = 0
    people_screened: int = 0
    classes: Counter[str] = field(default_factory=Counter)  # people by their screening's class
    people_referred: int = 0
    dxa_done: int = 0
    t_osteoporosis: int = 0
    t_low_bone_mass: int = 0
    declined: int = 0
    lost: int = 0
    waits: Counter[int] = field(default_factory=Counter)  # days to DXA -> referrals

    @property
    def referral_rate(self) -> float | None:
        return self.people_referred / self.people_screened if self.people_screened else None

    @property
    def uptake(self) -> float | None:
        return self.dxa_done / self.people_referred if self.people_referred else None

    @property
    def ppv_osteoporosis(self) -> float | None:
        return self.t_osteoporosis / self.dxa_done if self.dxa_done else None

    @property
    def ppv_low_bone_mass(self) -> float | None:
        return self.t_low_bone_mass / self.dxa_done if self.dxa_done else None

    @property
    def ppv_osteoporosis_ci(self) -> tuple[float, float] | None:
        return wilson(self.t_osteoporosis, self.dxa_done)

    @property
    def ppv_low_bone_mass_ci(self) -> tuple[float, float] | None:
        return wilson(self.t_low_bone_mass, self.dxa_done)

    @property
    def uptake_ci(self) -> tuple[float, float] | None:
        return wilson(self.dxa_done, self.people_referred)

    @property
    def median_days_to_dxa(self) -> float | None:
        return median(self.waits)

    def add(self, other: Figures) -> None:
        for name in ("people_screened", "people_referred", "dxa_done", "t_osteoporosis", "t_low_bone_mass",
                     "declined", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.classes.update(other.classes)
        self.waits.update(other.waits)
        self.hospitals += other.hospitals


@dataclass
class Week:
    start: date  # Monday
    people_screened: int = 0
    people_referred: int = 0
    dxa_done: int = 0


@dataclass
class ProgramFigures:
    level: str
    start: date | None
    end: date | None
    district: str | None
    region: str | None
    hospital_codes: list[str]
    groups: list[Figures]
    total: Figures
    by_sex: list[Figures]
    by_age: list[Figures]
    weekly: list[Week]


def program_figures(session: Session, hospital_ids: HospitalIds, level: str, start: date | None = None,
                    end: date | None = None, district: str | None = None,
                    region: str | None = None) -> ProgramFigures:
    """Every people figure of the hospitals in scope (narrowed by district/region) over ``start``..``end``.

    Whole weeks of the period are read from the week tables and its ragged ends from the day
    tables (:class:`Span`), per hospital (places, and the sex and age cells) and per week (the
    trend). Image and file counts (not eligible, rejected) and the model versions come from
    :func:`screening.queries.summarize`.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    hospitals = filtered_hospitals(hospital_ids, district, region)
    places = session.execute(select(Hospital.id, Hospital.code, Hospital.name, Hospital.district, Hospital.region)
                             .where(Hospital.id.in_(hospitals))
                             .order_by(Hospital.region, Hospital.district, Hospital.code)).all()
    per_hospital = {row.id: Figures(key=row.code, label=row.name, district=row.district, region=row.region,
                                    hospital_id=row.id, hospitals=1) for row in places}
    cells = {cell: Figures(key=cell, label=SEX_LABELS.get(cell) or BAND_LABELS[cell]) for cell in CELLS}
    weeks: dict[date, Week] = {}
    _people(session, hospitals, start, end, per_hospital, cells, weeks)
    _referrals(session, hospitals, start, end, per_hospital, cells, weeks)
    _waits(session, hospitals, start, end, per_hospital, cells)
    total = Figures(key="all", label="All hospitals in scope")
    for figures in per_hospital.values():
        total.add(figures)
    return ProgramFigures(
        level=level, start=start, end=end, district=district, region=region,
        hospital_codes=[row.code for row in places], groups=_grouped(per_hospital.values(), level), total=total,
        by_sex=[cells[c] for c in SEX_CELLS], by_age=[cells[c] for c in BAND_CELLS],
        weekly=[weeks[monday] for monday in sorted(weeks)])


def _days(column: Any, start: date | None, end: date | None) -> list[Any]:
    conditions = []
    if start:
        conditions.append(column >= start)
    if end:
        conditions.append(column <= end)
    return conditions


def _sums(table: Any, names: tuple[str, ...]) -> list[Any]:
    return [func.coalesce(func.sum(table.c[name]), 0).label(name) for name in names]


def _week(weeks: dict[date, Week], monday: Any) -> Week:
    day = monday if isinstance(monday, date) else date.fromisoformat(str(monday))
    return weeks.setdefault(day, Week(day))


@dataclass(frozen=True)
class Span:
    """A period as whole ISO weeks (read from the week tables) and the days at its ragged ends (day tables)."""

    weeks_from: date | None  # Monday of the first whole week (None: from the start)
    weeks_to: date | None  # Monday of the last whole week (None: to the end)
    days: tuple[tuple[date | None, date | None], ...]  # day ranges outside the whole weeks
    any_weeks: bool = True

    @classmethod
    def of(cls, start: date | None, end: date | None) -> Span:
        first = None if start is None else start + timedelta(days=(7 - start.weekday()) % 7)
        last = None if end is None else end - timedelta(days=end.weekday()) - (
            timedelta(0) if end.weekday() == 6 else timedelta(days=7))
        if first is not None and last is not None and first > last:
            return cls(None, None, ((start, end),), any_weeks=False)  # not one whole week: days only
        days = []
        if start is not None and first is not None and first > start:
            days.append((start, first - timedelta(days=1)))
        if end is not None and last is not None and last + timedelta(days=6) < end:
            days.append((last + timedelta(days=7), end))
        return cls(first, last, tuple(days))


def _period(daily: Any, weekly: Any, day: Any, names: tuple[str, ...], hospitals: Any, span: Span) -> Any:
    """One subquery of (hospital_id, week, names...) rows covering the period: week rows plus edge day rows."""
    parts = []
    if span.any_weeks:
        parts.append(select(weekly.c.hospital_id, weekly.c.week, *(weekly.c[n] for n in names))
                     .where(weekly.c.hospital_id.in_(hospitals),
                            *_days(weekly.c.week, span.weeks_from, span.weeks_to)))
    for low, high in span.days:
        parts.append(select(daily.c.hospital_id, daily.c.week, *(daily.c[n] for n in names))
                     .where(daily.c.hospital_id.in_(hospitals), *_days(day, low, high)))
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()


def _by_hospital(session: Session, rows: Any, names: tuple[str, ...]) -> list[dict[str, int]]:
    """One row of summed ``names`` per hospital (plain dicts: a SQLAlchemy Row read by name is slow in bulk)."""
    result = session.execute(select(rows.c.hospital_id, *_sums(rows, names)).group_by(rows.c.hospital_id)).all()
    return [dict(zip(("hospital_id", *names), map(int, row), strict=True)) for row in result]


def _people(session: Session, hospitals: Any, start: date | None, end: date | None,
            per_hospital: dict[int, Figures], cells: dict[str, Figures], weeks: dict[date, Week]) -> None:
    """People screened: the period's screenings less those of people screened earlier in the period
    (for a week: earlier in that week and in the period)."""
    rows = _period(people_daily, people_weekly, people_daily.c.day, PEOPLE_COUNTS, hospitals, Span.of(start, end))
    again = people_rescreens.c
    # Only screenings whose previous one lies in the period are taken away (all of them without a start).
    again_in_scope = [again.hospital_id.in_(hospitals), *_days(again.day, start, end),
                      *([again.prev_day >= start] if start else [])]
    twice = session.execute(select(again.hospital_id, *_sums(people_rescreens, PEOPLE_COUNTS))
                            .where(*again_in_scope).group_by(again.hospital_id)).all()
    for sign, found in ((1, _by_hospital(session, rows, PEOPLE_COUNTS)),
                        (-1, [dict(zip(("hospital_id", *PEOPLE_COUNTS), map(int, row), strict=True))
                              for row in twice])):
        for row in found:
            figures = per_hospital[row["hospital_id"]]
            figures.people_screened += sign * row["screened"]
            for risk in ("normal", "osteopenia", "osteoporosis"):
                figures.classes[risk] += sign * row[risk]
            for cell in CELLS:
                cells[cell].people_screened += sign * row[f"screened_{cell}"]
    for monday, screened in session.execute(select(rows.c.week, func.sum(rows.c.screened)).group_by(rows.c.week)):
        _week(weeks, monday).people_screened += int(screened)
    for monday, screened in session.execute(select(again.week, func.sum(again.screened))
                                            .where(*again_in_scope, again.prev_day >= again.week)
                                            .group_by(again.week)):
        _week(weeks, monday).people_screened -= int(screened)


def _referrals(session: Session, hospitals: Any, start: date | None, end: date | None,
               per_hospital: dict[int, Figures], cells: dict[str, Figures], weeks: dict[date, Week]) -> None:
    rows = _period(referral_daily, referral_weekly, referral_daily.c.referred_on, REFERRAL_COUNTS, hospitals,
                   Span.of(start, end))
    names = {"referred": "people_referred", "dxa_done": "dxa_done", "t_osteoporosis": "t_osteoporosis",
             "t_low_bone_mass": "t_low_bone_mass"}
    assert tuple(names) == REFERRAL_MEASURES
    for row in _by_hospital(session, rows, REFERRAL_COUNTS):
        figures = per_hospital[row["hospital_id"]]
        for measure, attribute in names.items():
            setattr(figures, attribute, getattr(figures, attribute) + row[measure])
            for cell in CELLS:
                target = cells[cell]
                setattr(target, attribute, getattr(target, attribute) + row[f"{measure}_{cell}"])
        figures.declined += row["declined"]
        figures.lost += row["lost"]
    for monday, referred, done in session.execute(select(rows.c.week, func.sum(rows.c.referred),
                                                         func.sum(rows.c.dxa_done)).group_by(rows.c.week)):
        this_week = _week(weeks, monday)
        this_week.people_referred += int(referred)
        this_week.dxa_done += int(done)


def _waits(session: Session, hospitals: Any, start: date | None, end: date | None,
           per_hospital: dict[int, Figures], cells: dict[str, Figures]) -> None:
    w = dxa_waits.c
    rows = session.execute(select(w.hospital_id, w.days, *_sums(dxa_waits, WAIT_COUNTS))
                           .where(w.hospital_id.in_(hospitals), *_days(w.referred_on, start, end))
                           .group_by(w.hospital_id, w.days)).all()
    for hospital_id, days, waited, *by_cell in rows:
        per_hospital[hospital_id].waits[int(days)] += int(waited)
        for cell, count in zip(CELLS, by_cell, strict=True):
            if count:
                cells[cell].waits[int(days)] += int(count)


def _grouped(per_hospital: Any, level: str) -> list[Figures]:
    if level == "hospital":
        return list(per_hospital)
    groups: dict[str, Figures] = {}
    for figures in per_hospital:
        key = figures.district if level == "district" else figures.region
        assert key is not None
        group = groups.setdefault(key, Figures(key=key, label=key, region=figures.region,
                                               district=figures.district if level == "district" else None))
        group.add(figures)
    return list(groups.values())
