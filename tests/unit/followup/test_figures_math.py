"""The arithmetic behind the officials' figures: periods split into whole weeks, medians, intervals."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from screening.followup.bands import age_band
from screening.followup.figures import Span, median, wilson


@pytest.mark.parametrize(("start", "end", "weeks", "days"), [
    (date(2024, 4, 1), date(2024, 4, 14), (date(2024, 4, 1), date(2024, 4, 8)), ()),  # Monday..Sunday
    (date(2024, 4, 3), date(2024, 4, 17), (date(2024, 4, 8), date(2024, 4, 8)),
     ((date(2024, 4, 3), date(2024, 4, 7)), (date(2024, 4, 15), date(2024, 4, 17)))),
    (None, date(2024, 4, 10), (None, date(2024, 4, 1)), ((date(2024, 4, 8), date(2024, 4, 10)),)),
    (date(2024, 4, 10), None, (date(2024, 4, 15), None), ((date(2024, 4, 10), date(2024, 4, 14)),)),
    (None, None, (None, None), ()),
])
def test_a_period_is_whole_weeks_and_its_ragged_ends(start, end, weeks, days):
    span = Span.of(start, end)
    assert span.any_weeks and (span.weeks_from, span.weeks_to) == weeks and span.days == days


def test_a_period_shorter_than_a_week_is_read_by_days():
    span = Span.of(date(2024, 4, 3), date(2024, 4, 9))
    assert not span.any_weeks and span.days == ((date(2024, 4, 3), date(2024, 4, 9)),)


def test_medians_of_counted_values_and_wilson_intervals():
    assert median(Counter()) is None
    assert median(Counter({6: 1, 10: 1})) == 8.0 and median(Counter({3: 2, 9: 1})) == 3.0
    assert median(Counter({1: 5, 100: 4})) == 1.0
    assert wilson(0, 0) is None
    low, high = wilson(89, 100)  # the Rho programme's PPV, 89 %
    assert 0.81 < low < 0.89 < high < 0.94
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)


def test_age_bands():
    assert [age_band(m) for m in (None, 12 * 49, 12 * 50, 12 * 59 + 11, 12 * 60, 12 * 95)] == [
        "unknown", "lt50", "50", "50", "60", "90"]
