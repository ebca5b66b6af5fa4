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


# -- the measured bone (metacarpal radiogrammetry) --------------------------------------
# Sources as cited in docs/radiogrammetry.md; no reference value is stated here that is not there.

MEASUREMENT_METHOD = (
    "The cortex of the 2nd, 3rd and 4th metacarpals was measured by software at mid-shaft: outer width D, "
    "medullary width d, cortical thickness T = (D − d)/2 and the cortical index (D − d)/D (Barnett E, "
    "Nordin BEC. Clin Radiol 1960;11:166–174); the combined index is Σ(D − d)/ΣD over the bones measured."
)
MEASUREMENT_CUT_OFF = (
    "Published cut-off: a 2nd-metacarpal cortical percentage below 50 % had a sensitivity of 100 % and a "
    "specificity of 91 % for osteoporosis against normal bone density on hip DXA (Schreiber JJ, Kamal RN, "
    "Yao J. J Hand Surg Am 2017;42(4):244–249; 200 patients)."
)
MEASUREMENT_NO_CATEGORY = (
    "The index is shown without a category: that cut-off was set with manual calipers on the 2nd metacarpal "
    "alone, whereas this index combines the 2nd–4th metacarpals measured by software, and the software's "
    "index has not yet been calibrated against DXA. Comparing it with the cut-off could mislead."
)
BHI_NOTE = (
    "BHI, the Bone Health Index π·T·(1 − T/W) / (L·W)^0.33 with T, W = D and L in mm (Thodberg HH et al. "
    "Osteoporos Int 2010;21(8):1391–1400), is given only when the pixel spacing is known and a length "
    "was measured; no reference values are applied to it as computed here, so it has no category either."
)
NO_PIXEL_SPACING = (
    "No pixel spacing was given for this image (DICOM PixelSpacing, or pixel_spacing_mm in the manifest), "
    "so widths and lengths are in pixels: the cortical index needs no scale; thickness in mm and BHI do."
)
NOT_ELIGIBLE_MEASUREMENT = (
    "The patient is outside the screening population for this image: the measurement is shown for "
    "information only, with no category."
)
MEASUREMENT_LIMITS = (
    f"{SCREENING_AID} The measurement describes the cortical bone of three hand bones. It is not a bone "
    "mineral density or a T-score, and it does not replace DXA of the hip and spine.",
    "Children and adolescents: the cortex changes with growth, and adult cut-offs do not apply.",
    "View: made for a PA (posteroanterior) hand radiograph. Oblique or rotated views, casts, implants, "
    "fractures and overlapping bones change the widths or stop a bone from being measured (such a bone "
    "is refused, with the reason).",
    "The picture shows where each bone was measured: a line that does not cross the shaft of the bone "
    "named makes that value meaningless.",
)
