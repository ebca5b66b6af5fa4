"""Bootstrap intervals by patient, calibration slope/intercept, and the subgroup rows."""

from __future__ import annotations

import numpy as np
import pytest

from training.intervals import bootstrap, calibration_slope_intercept, paired_difference, patient_resamples
from training.subgroups import Cohort, age_band, subgroup_figures


def test_resamples_draw_whole_patients():
    groups = np.array(["a", "a", "b", "c", "c", "c"])
    for idx in patient_resamples(groups, n_boot=20, seed=1):
        drawn = groups[idx]
        for patient, size in (("a", 2), ("c", 3)):
            assert (drawn == patient).sum() % size == 0  # a patient's images come together


def test_interval_brackets_the_estimate_and_narrows_with_more_people():
    rng = np.random.default_rng(0)

    def width(n: int) -> float:
        y = rng.integers(0, 2, n)
        p = np.column_stack([1 - y * 0.7, y * 0.7]).astype(float)
        flip = rng.random(n) < 0.2
        p[flip] = p[flip][:, ::-1]
        est = bootstrap({"acc": lambda yy, pp: float((pp.argmax(1) == yy).mean())}, y, p,
                        patient_resamples(np.arange(n), 300))["acc"]
        assert est.low <= est.value <= est.high
        return est.high - est.low

    assert width(1000) < width(50) / 2


def test_calibration_slope_is_one_for_calibrated_and_below_one_for_overconfident():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.02, 0.98, 20000)
    outcome = rng.random(20000) < p
    slope, intercept = calibration_slope_intercept(outcome, p)
    assert slope == pytest.approx(1.0, abs=0.05) and intercept == pytest.approx(0.0, abs=0.05)
    logit = np.log(p / (1 - p))
    overconfident = 1 / (1 + np.exp(-2 * logit))
    slope, _ = calibration_slope_intercept(outcome, overconfident)
    assert slope == pytest.approx(0.5, abs=0.05)
    _, intercept = calibration_slope_intercept(outcome, p * 0.5)  # predicts too few cases
    assert intercept > 0.5


def test_calibration_is_undefined_with_one_outcome():
    assert calibration_slope_intercept(np.zeros(10), np.full(10, 0.3)) == (None, None)


def test_paired_difference_of_identical_models_is_zero():
    y = np.array([0, 1, 2, 1, 0, 2, 2, 1])
    p = np.eye(3)[[0, 1, 1, 1, 0, 2, 2, 0]].astype(float)
    diff = paired_difference(lambda yy, pp: float((pp.argmax(1) == yy).mean()), y, p, p,
                             patient_resamples(np.arange(8), 100))
    assert (diff.value, diff.low, diff.high) == (0.0, 0.0, 0.0)


def test_age_bands_are_ten_years():
    assert age_band(50 * 12) == "50–59" and age_band(59 * 12 + 11) == "50–59" and age_band(60 * 12) == "60–69"


def test_small_subgroups_are_counted_without_figures():
    rng = np.random.default_rng(1)
    n = 60
    y = rng.integers(0, 3, n)
    probs = rng.dirichlet(np.ones(3), n)
    sexes = np.array(["F"] * 55 + ["M"] * 5)
    cohort = Cohort(np.arange(n).astype(str), np.full(n, 65 * 12.0), sexes)
    rows = {g.label: g for g in subgroup_figures(y, probs, cohort, ["normal", "osteopenia", "osteoporosis"],
                                                 threshold=0.5, n_boot=50)}
    assert rows["sex M"].people == 5 and rows["sex M"].figures == {}
    assert set(rows["sex F"].figures) == {"macro_f1", "mcc", "auc", "sensitivity", "specificity", "ece"}
    assert rows["age 60–69"].images == n
