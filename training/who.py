"""WHO bone-density categories from a DXA T-score.

Kept free of TensorFlow so that the phantom generator and manifest checks run
without the ML stack. The order matches the model's output order
(``screening.model.CLASS_NAMES``); a unit test keeps the two in step.
"""

from __future__ import annotations

import numpy as np

from screening.vocabulary import CLASS_NAMES

WHO_CLASSES: tuple[str, ...] = CLASS_NAMES

# WHO: normal >= -1.0; low bone mass (osteopenia) between; osteoporosis <= -2.5.
NORMAL_MIN_T = -1.0
OSTEOPOROSIS_MAX_T = -2.5


def who_class(t_score: float) -> str:
    """The WHO category name of one T-score."""
    if t_score >= NORMAL_MIN_T:
        return "normal"
    if t_score <= OSTEOPOROSIS_MAX_T:
        return "osteoporosis"
    return "osteopenia"


def who_class_index(t_scores: np.ndarray) -> np.ndarray:
    """Vectorised class index (0 normal, 1 osteopenia, 2 osteoporosis)."""
    t = np.asarray(t_scores, dtype=float)
    return np.where(t >= NORMAL_MIN_T, 0, np.where(t <= OSTEOPOROSIS_MAX_T, 2, 1))
