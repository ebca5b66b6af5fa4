"""The evaluation report is one self-contained HTML page plus the PNG figures."""

from __future__ import annotations

import json

import numpy as np

from training.metrics import evaluate
from training.report import write_evaluation_report

CLASSES = ("normal", "osteopenia", "osteoporosis")


def test_report_embeds_every_figure_and_states_the_numbers(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.choice(3, 120, p=[0.6, 0.25, 0.15])
    logits = rng.normal(0, 1, (120, 3))
    logits[np.arange(120), y] += 2.0
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    evaluation = evaluate(y, probs, CLASSES)
    history = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9], "accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.5]}
    page = write_evaluation_report(tmp_path, evaluation, y, probs, CLASSES, "Test <run>", ["synthetic"], history)
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 4
    assert "src='http" not in html and "Test &lt;run&gt;" in html
    assert f"{evaluation['macro_f1']:.3f}" in html and f"{evaluation['referral']['threshold']:.3f}" in html
    for name in ("confusion_matrix.png", "roc_curves.png", "reliability.png", "training_curves.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
    assert json.loads((tmp_path / "evaluation.json").read_text())["n"] == 120
