"""The one rule for a patient's overall result when several images were screened.

Used by the patient report, the batch summary (class counts and referral list),
the trend of earlier screenings and the patient roll-up (latest class and risk on
dashboards), so a patient never reads as one class in a report and another on a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from screening.db.models import RiskClass
from screening.vocabulary import CLASS_RANK


class Screened(Protocol):
    """Anything that carries one image's result: a Prediction row or a report's ImageResult."""

    @property
    def predicted_class(self) -> RiskClass | None: ...

    @property
    def p_osteoporosis(self) -> float: ...


S = TypeVar("S", bound=Screened)


def severity(result: Screened) -> tuple[int, float]:
    """Sort key, worst last: the class's severity rank, then P(osteoporosis). Unscreened sorts first."""
    rank = CLASS_RANK[RiskClass(result.predicted_class)] if result.predicted_class is not None else -1
    return rank, float(result.p_osteoporosis)


def overall_result(results: Iterable[S]) -> S | None:
    """The image whose result is the patient's overall result; ``None`` when none was screened.

    Rule: the worst class wins; between images of that class, the higher
    P(osteoporosis) wins. Why worst class first, and not simply the highest
    P(osteoporosis): this is screening, so an image that the model classes as
    osteoporosis must never be outweighed by another image classed osteopenia
    or normal that happens to carry a higher osteoporosis probability (with
    probabilities (0.30, 0.30, 0.40) against (0.05, 0.50, 0.45), the highest
    P(osteoporosis) picks the osteopenia image and the patient would be reported
    one category too low). The class is the model's most probable category for
    that image; the probability only orders images within a class, so the figures
    and heatmap shown are those of the image that drives the result. Referral is
    separate: a patient is referred when any image is.
    """
    screened = [result for result in results if result.predicted_class is not None]
    if not screened:
        return None
    return max(screened, key=severity)
