"""The product's vocabulary: one home, importable without TensorFlow, and used by every surface."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from screening.db.models import BatchStatus, Quality, RiskClass
from screening.vocabulary import (
    CLASS_NAMES,
    DISCLAIMER,
    FINISHED_STATUSES,
    OVERLAY_COLORMAPS,
    SCREENABLE,
    batch_status_label,
    class_short_label,
    is_finished,
)

REPO = Path(__file__).resolve().parents[2]


def test_cards_constants_and_overlays_load_without_tensorflow() -> None:
    script = (
        "import sys\n"
        "import screening.vocabulary, screening.model, screening.model.card, screening.model.overlays\n"
        "from screening.model import CLASS_NAMES, ModelCard\n"
        "from screening.model.overlays import render_overlays\n"
        "import screening.reports.render, screening.rollups, screening.results\n"
        "print('HEAVY', sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout


def test_the_models_output_order_is_the_who_order_of_the_database_classes() -> None:
    from training.who import WHO_CLASSES

    assert CLASS_NAMES == ("normal", "osteopenia", "osteoporosis") == WHO_CLASSES
    assert tuple(risk.value for risk in RiskClass) == CLASS_NAMES


def test_overlays_are_rendered_for_exactly_the_product_colour_maps() -> None:
    from screening.model.overlays import COLORMAPS

    assert tuple(COLORMAPS) == OVERLAY_COLORMAPS


def test_finished_means_no_further_change() -> None:
    assert {s for s in BatchStatus if is_finished(s)} == set(FINISHED_STATUSES) == {
        BatchStatus.COMPLETE, BatchStatus.COMPLETE_WITH_ERRORS, BatchStatus.NEEDS_ATTENTION, BatchStatus.FAILED}
    assert batch_status_label("needs_attention") == "needs attention"
    assert batch_status_label("complete_with_errors") == "complete with errors"
    assert class_short_label("osteopenia") == "Osteopenia" and class_short_label(None) == ""
    assert set(SCREENABLE) == {Quality.ACCEPTED, Quality.WARNING}


def test_the_disclaimer_is_written_once() -> None:
    """Pages, API, CSV, CLI and model card all print the sentence from screening.vocabulary."""
    sentence = re.compile(r"screening aid,? not a diagnosis", re.IGNORECASE)
    homes = [path.relative_to(REPO).as_posix()
             for package in ("screening", "web", "worker", "training")
             for path in (REPO / package).rglob("*") if path.suffix in {".py", ".html", ".js"}
             and sentence.search(path.read_text("utf-8"))]
    # The click group's help text is a docstring, which cannot import a constant.
    assert sorted(homes) == ["screening/cli.py", "screening/vocabulary.py"]
    assert "DXA is the reference standard" in DISCLAIMER
