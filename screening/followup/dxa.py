"""DXA results: the WHO categories of T-scores and the checks on a recorded result.

The one home of the WHO rule (training labels its data with it too, through
``training.who``): normal >= -1.0; low bone mass (osteopenia) between; osteoporosis
<= -2.5. Of several sites (femoral neck, total hip, lumbar spine) the lowest T-score
decides, as WHO/ISCD practice has it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from screening.db.models import RiskClass

NORMAL_MIN_T = -1.0
OSTEOPOROSIS_MAX_T = -2.5
# T-scores outside this range are typing errors, not bone.
T_SCORE_RANGE = (-8.0, 6.0)
SITES: tuple[tuple[str, str], ...] = (("t_femoral_neck", "femoral neck"), ("t_total_hip", "total hip"),
                                      ("t_lumbar_spine", "lumbar spine"))
DEVICE_CHARS = 100


def who_class(t_score: float) -> str:
    """The WHO category name of one T-score."""
    if t_score >= NORMAL_MIN_T:
        return RiskClass.NORMAL.value
    if t_score <= OSTEOPOROSIS_MAX_T:
        return RiskClass.OSTEOPOROSIS.value
    return RiskClass.OSTEOPENIA.value


class DxaError(ValueError):
    """A DXA result that cannot be recorded as given; the message says which field and why."""


@dataclass(frozen=True)
class DxaResult:
    """One DXA examination: its date, device and the T-scores measured (at least one)."""

    dxa_date: date
    device: str | None
    t_femoral_neck: float | None
    t_total_hip: float | None
    t_lumbar_spine: float | None

    @property
    def t_lowest(self) -> float:
        return min(t for t in (self.t_femoral_neck, self.t_total_hip, self.t_lumbar_spine) if t is not None)

    @property
    def who_class(self) -> str:
        return who_class(self.t_lowest)


def parse_t_score(raw: object, label: str) -> float | None:
    """A T-score from a form field, CSV cell or JSON value; empty means not measured."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise DxaError(f"the {label} T-score must be a number")
    try:
        value = float(str(raw).strip().replace(",", ".")) if not isinstance(raw, (int, float)) else float(raw)
    except ValueError:
        raise DxaError(f"the {label} T-score must be a number, got {str(raw)[:20]!r}") from None
    low, high = T_SCORE_RANGE
    if not math.isfinite(value) or not low <= value <= high:
        raise DxaError(f"the {label} T-score must be between {low} and {high}, got {value}")
    return round(value, 2)


def parse_date(raw: object, label: str) -> date:
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DxaError(f"the {label} must be a date as YYYY-MM-DD, got {text[:20]!r}") from None


def dxa_result(values: Mapping[str, object], referred_on: date, today: date) -> DxaResult:
    """Check a DXA result given as ``dxa_date``, ``device`` and the site T-scores (``t_femoral_neck`` ...).

    The examination must lie between the referral's day and today: a DXA from before
    the referral is not what the referral led to, and one in the future is a typing error.
    """
    when = parse_date(values.get("dxa_date"), "DXA date")
    if when > today:
        raise DxaError(f"the DXA date {when} is in the future")
    if when < referred_on:
        raise DxaError(f"the DXA date {when} is before the referral ({referred_on})")
    scores = {name: parse_t_score(values.get(name), label) for name, label in SITES}
    if all(value is None for value in scores.values()):
        raise DxaError("give at least one T-score (femoral neck, total hip or lumbar spine)")
    device = str(values.get("device") or "").strip() or None
    if device is not None and len(device) > DEVICE_CHARS:
        raise DxaError(f"the device may have at most {DEVICE_CHARS} characters")
    return DxaResult(dxa_date=when, device=device, **scores)  # type: ignore[arg-type]
