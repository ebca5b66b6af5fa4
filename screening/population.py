"""Who this screening is for: the screening population, from settings.

WHO T-score categories (normal / low bone mass / osteoporosis) are defined for
postmenopausal women and men aged 50 and over, and the published hand
radiogrammetry products were validated in adults. An image of a patient outside
the configured population is therefore recorded "not eligible": it gets no WHO
class, no referral and no FRAX/DXA advice, and it is never counted as
screened-negative. This module is the one place that decides it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_

from screening.config import Settings
from screening.db.models import Image, Quality
from screening.vocabulary import SCREENABLE

SEX_WORDS = {"F": "women", "M": "men"}
# Children never get T-score categories, whatever OSTEO_SCREENING_MIN_AGE_YEARS says.
ADULT_AGE_YEARS = 18


@dataclass(frozen=True)
class Eligibility:
    """The verdict for one image's patient; ``reason`` is shown to staff when not eligible."""

    eligible: bool
    reason: str | None = None


@dataclass(frozen=True)
class ScreeningPopulation:
    """Minimum age in whole years and the sexes screened (``F``, ``M``)."""

    min_age_years: int
    sexes: frozenset[str]

    @classmethod
    def from_settings(cls, settings: Settings) -> ScreeningPopulation:
        return cls(settings.screening_min_age_years, frozenset(settings.screening_sexes))

    def judge(self, age_months: int | None, sex: str | None) -> Eligibility:
        """Eligible, or not with a sentence a radiographer understands."""
        if age_months is None:
            return Eligibility(False, "not eligible: the patient's age is unknown")
        years, minimum = age_months // 12, max(self.min_age_years, ADULT_AGE_YEARS)
        if years < minimum:
            return Eligibility(False, f"not eligible: age {_age_text(age_months)} is below the screening "
                                      f"population's minimum of {minimum} years (WHO T-score "
                                      "categories are not validated at this age)")
        if self.sexes != frozenset(SEX_WORDS):
            screened = " and ".join(SEX_WORDS[s] for s in sorted(self.sexes))
            if sex is None:
                return Eligibility(False, f"not eligible: sex not given, and this program screens {screened} only")
            if sex not in self.sexes:
                return Eligibility(False, f"not eligible: this program screens {screened} only")
        return Eligibility(True)


def to_screen() -> ColumnElement[bool]:
    """SQL condition for the images that go to the model: readable, and of a patient in the population.

    ``eligible`` is NULL on images recorded before the population was judged; they count as eligible.
    """
    return and_(Image.quality.in_(SCREENABLE), Image.eligible.is_not(False))


def not_eligible() -> ColumnElement[bool]:
    """SQL condition for readable images kept out of the model because their patient is not eligible."""
    return and_(Image.quality.in_(SCREENABLE), Image.eligible.is_(False))


def is_to_screen(quality: Quality, eligible: bool | None) -> bool:
    """The Python twin of :func:`to_screen`, for a row already loaded."""
    return quality in SCREENABLE and eligible is not False


def _age_text(age_months: int) -> str:
    if age_months < 24:
        return f"{age_months} months"
    return f"{age_months // 12} years"
