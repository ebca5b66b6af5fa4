"""The clinical wording of reports: categories, follow-up per category, and caveats.

Kept apart from the templates so the exact sentences a clinician reads are in one
reviewable place (and testable), not scattered through HTML. Categories follow the
WHO definitions on DXA T-score; the model estimates which category a DXA would show.
"""

from __future__ import annotations

from dataclasses import dataclass

from screening.db import RiskClass
from screening.vocabulary import CANNOT_RULE_OUT, DXA_REFERENCE, SCREENING_AID

VALIDATED_FROM_MONTHS = 50 * 12

VALIDATED_POPULATION = (
    "WHO T-score categories are validated for postmenopausal women and for men aged 50 and over."
)
NOT_VALIDATED_FOR_AGE = (
    "This patient is under 50: the T-score categories are not validated for this age, "
    "so the result must be interpreted with particular caution."
)
AGE_UNKNOWN = "The patient's age is not recorded, so it cannot be checked against the validated population."
DEMO_MODEL_NOTICE = "Produced by the synthetic-data demo model: not for clinical use."

CATEGORY_DEFINITIONS = {
    RiskClass.NORMAL: "Normal: T-score −1.0 or above",
    RiskClass.OSTEOPENIA: "Low bone mass (osteopenia): T-score between −1.0 and −2.5",
    RiskClass.OSTEOPOROSIS: "Osteoporosis: T-score −2.5 or below",
}


@dataclass(frozen=True)
class Recommendation:
    """Follow-up suggested for one WHO category: a headline and the steps."""

    headline: str
    steps: tuple[str, ...]


RECOMMENDATIONS = {
    RiskClass.OSTEOPOROSIS: Recommendation(
        headline="Findings suggest osteoporosis-range bone density: confirm with DXA.",
        steps=(
            "DXA of the hip and lumbar spine.",
            "FRAX assessment of 10-year fracture probability.",
            "Consider referral to a bone-health / fracture-liaison service.",
            "Review fracture history, falls risk and medicines that affect bone.",
        ),
    ),
    RiskClass.OSTEOPENIA: Recommendation(
        headline="Findings suggest low bone mass (osteopenia): consider DXA to confirm.",
        steps=(
            "DXA to confirm the bone density category.",
            "FRAX assessment of 10-year fracture probability.",
            "Lifestyle advice: weight-bearing exercise, adequate calcium and vitamin D, "
            "stopping smoking, limiting alcohol, falls prevention.",
        ),
    ),
    RiskClass.NORMAL: Recommendation(
        headline="No sign of low bone density on this X-ray: routine care.",
        steps=(
            "Routine care; no bone-density follow-up is suggested by this screening.",
            "This result does not rule out low bone density: use clinical judgement and "
            "risk factors (previous fracture, steroids, early menopause) to decide on DXA.",
        ),
    ),
}

NOT_SCREENED = Recommendation(
    headline="No result: no image of this patient could be screened.",
    steps=("Repeat the hand/wrist X-ray or assess bone health clinically.",),
)


def recommendation_for(risk: RiskClass | None) -> Recommendation:
    """Follow-up for the patient's overall category (``None`` when nothing was screened)."""
    return NOT_SCREENED if risk is None else RECOMMENDATIONS[risk]


def age_caveats(age_months: int | None) -> tuple[str, ...]:
    """Which population the categories hold for, and whether this patient is in it.

    Menopausal status is not recorded, so the population is stated rather than checked.
    """
    if age_months is None:
        return VALIDATED_POPULATION, AGE_UNKNOWN
    if age_months < VALIDATED_FROM_MONTHS:
        return VALIDATED_POPULATION, NOT_VALIDATED_FOR_AGE
    return (VALIDATED_POPULATION,)


def standing_statements() -> tuple[str, ...]:
    """What every report says, whatever the result."""
    return SCREENING_AID, CANNOT_RULE_OUT, DXA_REFERENCE
