"""The screening population: who gets a WHO class and who is recorded 'not eligible'."""

from __future__ import annotations

import pytest

from screening.config import SettingsError, load_settings
from screening.population import ScreeningPopulation


def population(**env: str) -> ScreeningPopulation:
    return ScreeningPopulation.from_settings(load_settings({f"OSTEO_{k.upper()}": v for k, v in env.items()}))


def test_default_population_is_women_and_men_from_fifty() -> None:
    pop = population()
    assert pop.judge(50 * 12, "F").eligible
    assert pop.judge(80 * 12 + 3, "M").eligible
    assert pop.judge(50 * 12, None).eligible  # both sexes screened: sex is not needed


def test_a_child_is_not_eligible_and_the_reason_says_why() -> None:
    verdict = population().judge(2 * 12, "F")
    assert not verdict.eligible
    assert "age 2 years" in verdict.reason and "minimum of 50 years" in verdict.reason
    assert "14 months" in population().judge(14, "M").reason


def test_just_under_the_minimum_age_is_not_eligible() -> None:
    assert not population().judge(50 * 12 - 1, "F").eligible


def test_minimum_age_is_configurable() -> None:
    assert population(screening_min_age_years="40").judge(42 * 12, "F").eligible
    assert not population(screening_min_age_years="40").judge(39 * 12, "F").eligible


def test_children_are_never_eligible_even_with_a_low_minimum_age() -> None:
    verdict = population(screening_min_age_years="10").judge(12 * 12, "F")
    assert not verdict.eligible and "minimum of 18 years" in verdict.reason
    assert population(screening_min_age_years="10").judge(18 * 12, "F").eligible


def test_a_women_only_program_refuses_men_and_unknown_sex() -> None:
    pop = population(screening_sexes="f")
    assert pop.judge(60 * 12, "F").eligible
    assert "screens women only" in pop.judge(60 * 12, "M").reason
    assert "sex not given" in pop.judge(60 * 12, None).reason


def test_unknown_age_is_not_eligible() -> None:
    assert not population().judge(None, "F").eligible


@pytest.mark.parametrize("raw", ["", "X", "F,Q"])
def test_bad_sexes_setting_names_the_variable(raw: str) -> None:
    with pytest.raises(SettingsError, match="OSTEO_SCREENING_SEXES"):
        load_settings({"OSTEO_SCREENING_SEXES": raw})
