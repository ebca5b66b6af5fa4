"""Follow-up states of a referral: how they read, which are open, which moves staff may make.

to contact -> contacted -> DXA booked -> DXA done; or declined, or lost to follow-up.
Staff may correct a state (move back) until a DXA result is recorded; "DXA done" is
reached only by recording the result (a T-score), so every "done" carries one.
"""

from __future__ import annotations

from screening.db.models import FollowUpState

STATE_LABELS: dict[FollowUpState, str] = {
    FollowUpState.TO_CONTACT: "to contact",
    FollowUpState.CONTACTED: "contacted",
    FollowUpState.DXA_BOOKED: "DXA booked",
    FollowUpState.DXA_DONE: "DXA done",
    FollowUpState.DECLINED: "declined",
    FollowUpState.LOST: "lost to follow-up",
}
# Still being worked: a patient with an open referral gets no second one.
OPEN_STATES: frozenset[FollowUpState] = frozenset(
    {FollowUpState.TO_CONTACT, FollowUpState.CONTACTED, FollowUpState.DXA_BOOKED})
# What a state change (not a DXA result) may set.
SETTABLE: tuple[FollowUpState, ...] = (FollowUpState.TO_CONTACT, FollowUpState.CONTACTED, FollowUpState.DXA_BOOKED,
                                        FollowUpState.DECLINED, FollowUpState.LOST)


class TransitionError(ValueError):
    """A state change that is not allowed; the message says why."""


def check_transition(current: FollowUpState, target: FollowUpState) -> None:
    if target is FollowUpState.DXA_DONE:
        raise TransitionError("'DXA done' is set by recording the DXA result (its T-scores)")
    if target not in SETTABLE:
        raise TransitionError(f"unknown state {target!r}")
    if current is FollowUpState.DXA_DONE:
        raise TransitionError("the DXA result is recorded: correct the result instead of the state")
    if current is target:
        raise TransitionError(f"the referral is already '{STATE_LABELS[target]}'")


def state_label(state: FollowUpState | str) -> str:
    return STATE_LABELS[FollowUpState(state)]


def parse_state(raw: str | None) -> FollowUpState:
    try:
        return FollowUpState((raw or "").strip())
    except ValueError:
        names = ", ".join(state.value for state in FollowUpState)
        raise TransitionError(f"state must be one of {names}, got {(raw or '')[:40]!r}") from None
