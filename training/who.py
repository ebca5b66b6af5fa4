"""WHO bone-density categories from a DXA T-score, for training.

The rule itself lives in :mod:`screening.followup.dxa` (the follow-up of referrals
classes DXA results with it too); this adds the vectorised form phantoms and
manifests use. Kept free of TensorFlow so that the phantom generator and manifest
checks run without the ML stack. The order matches the model's output order
(``screening.model.CLASS_NAMES``); a unit test keeps the two in step.
"""

from __future__ import annotations

import numpy as np

from screening.followup.dxa import NORMAL_MIN_T, OSTEOPOROSIS_MAX_T, T_SCORE_RANGE, who_class
from screening.vocabulary import CLASS_NAMES

WHO_CLASSES: tuple[str, ...] = CLASS_NAMES
__all__ = ["NORMAL_MIN_T", "OSTEOPOROSIS_MAX_T", "T_SCORE_RANGE", "WHO_CLASSES", "who_class", "who_class_index"]


def who_class_index(t_scores: np.ndarray) -> np.ndarray:
    """Vectorised class index (0 normal, 1 osteopenia, 2 osteoporosis)."""
    t = np.asarray(t_scores, dtype=float)
    return np.where(t >= NORMAL_MIN_T, 0, np.where(t <= OSTEOPOROSIS_MAX_T, 2, 1))
