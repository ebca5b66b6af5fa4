"""DXA results are checked field by field; follow-up states move only as staff may move them."""

from __future__ import annotations

from datetime import date

import pytest

from screening.db.models import FollowUpState
from screening.followup.dxa import DxaError, dxa_result, who_class
from screening.followup.states import TransitionError, check_transition, parse_state

REFERRED, TODAY = date(2024, 3, 1), date(2024, 6, 1)


def test_who_categories_at_their_edges():
    assert [who_class(t) for t in (-1.0, -1.01, -2.49, -2.5, 0.3)] == [
        "normal", "osteopenia", "osteopenia", "osteoporosis", "normal"]


def test_the_lowest_site_decides_and_commas_are_decimal_points():
    result = dxa_result({"dxa_date": "2024-03-20", "t_femoral_neck": "-2,6", "t_total_hip": -1.9,
                         "t_lumbar_spine": "", "device": " Lunar "}, REFERRED, TODAY)
    assert (result.t_lowest, result.who_class, result.device, result.t_lumbar_spine) == (
        -2.6, "osteoporosis", "Lunar", None)


@pytest.mark.parametrize(("values", "message"), [
    ({"dxa_date": "2024-03-20"}, "at least one T-score"),
    ({"dxa_date": "2024-02-20", "t_total_hip": "-1"}, "before the referral"),
    ({"dxa_date": "2024-07-01", "t_total_hip": "-1"}, "in the future"),
    ({"dxa_date": "20/03/2024", "t_total_hip": "-1"}, "YYYY-MM-DD"),
    ({"dxa_date": "2024-03-20", "t_total_hip": "-9.5"}, "between -8.0 and 6.0"),
    ({"dxa_date": "2024-03-20", "t_total_hip": "nan"}, "between -8.0 and 6.0"),
    ({"dxa_date": "2024-03-20", "t_total_hip": "low"}, "must be a number"),
    ({"dxa_date": "2024-03-20", "t_total_hip": True}, "must be a number"),
    ({"dxa_date": "2024-03-20", "t_total_hip": "-1", "device": "x" * 101}, "at most 100"),
])
def test_bad_dxa_results_say_what_is_wrong(values, message):
    with pytest.raises(DxaError, match=message):
        dxa_result(values, REFERRED, TODAY)


def test_state_moves():
    check_transition(FollowUpState.TO_CONTACT, FollowUpState.CONTACTED)
    check_transition(FollowUpState.DXA_BOOKED, FollowUpState.CONTACTED)  # a correction
    check_transition(FollowUpState.DECLINED, FollowUpState.DXA_BOOKED)  # changed their mind
    for current, target, why in [(FollowUpState.CONTACTED, FollowUpState.DXA_DONE, "recording the DXA result"),
                                 (FollowUpState.DXA_DONE, FollowUpState.CONTACTED, "correct the result"),
                                 (FollowUpState.CONTACTED, FollowUpState.CONTACTED, "already")]:
        with pytest.raises(TransitionError, match=why):
            check_transition(current, target)
    with pytest.raises(TransitionError, match="state must be one of"):
        parse_state("phoned")
