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

from screening.config import Settings

SEX_WORDS = {"F": "women", "M": "men"}


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
        years = age_months // 12
        if years < self.min_age_years:
            return Eligibility(False, f"not eligible: age {_age_text(age_months)} is below the screening "
                                      f"population's minimum of {self.min_age_years} years (WHO T-score "
                                      "categories are not validated at this age)")
        if self.sexes != frozenset(SEX_WORDS):
            screened = " and ".join(SEX_WORDS[s] for s in sorted(self.sexes))
            if sex is None:
                return Eligibility(False, f"not eligible: sex not given, and this program screens {screened} only")
            if sex not in self.sexes:
                return Eligibility(False, f"not eligible: this program screens {screened} only")
        return Eligibility(True)


def _age_text(age_months: int) -> str:
    if age_months < 24:
        return f"{age_months} months"
    return f"{age_months // 12} years"
