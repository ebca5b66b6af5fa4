"""The clinical wording: follow-up per WHO category and the caveats every report carries."""

from screening.db import RiskClass
from screening.reports import clinical


def test_osteoporosis_follow_up_is_dxa_frax_and_bone_health_referral():
    steps = " ".join(clinical.recommendation_for(RiskClass.OSTEOPOROSIS).steps)
    assert "DXA of the hip and lumbar spine" in steps
    assert "FRAX" in steps
    assert "bone-health / fracture-liaison service" in steps


def test_osteopenia_follow_up_confirms_with_dxa_and_gives_lifestyle_advice():
    steps = " ".join(clinical.recommendation_for(RiskClass.OSTEOPENIA).steps)
    assert "DXA to confirm" in steps and "FRAX" in steps and "calcium and vitamin D" in steps


def test_normal_is_routine_care_that_does_not_rule_out_low_bone_density():
    recommendation = clinical.recommendation_for(RiskClass.NORMAL)
    assert "routine care" in recommendation.headline
    assert any("does not rule out low bone density" in step for step in recommendation.steps)


def test_nothing_screened_says_so():
    assert "No result" in clinical.recommendation_for(None).headline


def test_category_definitions_follow_who_t_score_cut_offs():
    assert "−1.0 or above" in clinical.CATEGORY_DEFINITIONS[RiskClass.NORMAL]
    assert "between −1.0 and −2.5" in clinical.CATEGORY_DEFINITIONS[RiskClass.OSTEOPENIA]
    assert "−2.5 or below" in clinical.CATEGORY_DEFINITIONS[RiskClass.OSTEOPOROSIS]


def test_under_50_gets_the_not_validated_caveat_and_50_does_not():
    assert clinical.NOT_VALIDATED_FOR_AGE in clinical.age_caveats(49 * 12 + 11)
    assert clinical.age_caveats(50 * 12) == (clinical.VALIDATED_POPULATION,)
    assert clinical.AGE_UNKNOWN in clinical.age_caveats(None)
    assert "postmenopausal women and for men aged 50 and over" in clinical.VALIDATED_POPULATION


def test_every_report_states_screening_aid_rule_out_and_dxa_reference():
    text = " ".join(clinical.standing_statements())
    assert "This is a screening aid, not a diagnosis" in text
    assert "The software cannot rule out low bone density" in text
    assert "DXA" in text and "reference standard" in text
