"""The evaluation report: PNG figures plus one self-contained HTML page.

Images are base64-embedded so the HTML can be mailed or archived alone; the
PNGs and ``evaluation.json`` are written beside it for anyone who wants the
raw figures.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from screening.vocabulary import DISCLAIMER
from training.intervals import N_BOOTSTRAP, Estimate
from training.metrics import apply_temperature
from training.plots import plot_confusion_matrix, plot_reliability, plot_roc_curves, plot_training_curves
from training.subgroups import MIN_SUBGROUP

REPORT_FILE = "evaluation.html"
METRICS_FILE = "evaluation.json"


def write_evaluation_report(
    out_dir: Path,
    evaluation: Mapping[str, Any],
    y_true: np.ndarray,
    raw_probs: np.ndarray,
    class_names: Sequence[str],
    title: str,
    notes: Sequence[str] = (),
    history: Mapping[str, Sequence[float]] | None = None,
) -> Path:
    """Write figures, ``evaluation.json`` and ``evaluation.html`` into ``out_dir``; return the HTML path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    calibrated = apply_temperature(raw_probs, evaluation["calibration"]["temperature"])
    figures = [
        ("Confusion matrix (calibrated probabilities, argmax)",
         plot_confusion_matrix(evaluation["confusion_matrix"], class_names, out_dir / "confusion_matrix.png")),
        ("ROC curves", plot_roc_curves(y_true, calibrated, class_names, out_dir / "roc_curves.png")),
        ("Reliability", plot_reliability(y_true, raw_probs, calibrated, out_dir / "reliability.png")),
    ]
    if history:
        figures.append(("Training curves", plot_training_curves(history, out_dir / "training_curves.png")))
    (out_dir / METRICS_FILE).write_text(json.dumps(evaluation, indent=2) + "\n")
    page = _render(title, evaluation, class_names, figures, notes)
    target = out_dir / REPORT_FILE
    target.write_text(page, encoding="utf-8")
    return target


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def _render(
    title: str,
    evaluation: Mapping[str, Any],
    class_names: Sequence[str],
    figures: list[tuple[str, Path]],
    notes: Sequence[str],
) -> str:
    summary_rows = [
        ("Images evaluated", evaluation["n"]),
        ("Accuracy", evaluation["accuracy"]),
        ("Macro F1", evaluation["macro_f1"]),
        ("Matthews correlation (MCC)", evaluation["mcc"]),
        ("Macro one-vs-rest AUC-ROC", evaluation["auc_macro_ovr"]),
        ("Temperature T", evaluation["calibration"]["temperature"]),
        ("ECE before / after temperature scaling",
         f"{evaluation['calibration']['ece_before']:.3f} / {evaluation['calibration']['ece_after']:.3f}"),
    ]
    referral = evaluation["referral"]
    referral_rows = [
        ("Refer for DXA when P(osteoporosis) ≥", referral["threshold"]),
        ("Sensitivity (osteoporosis)", referral["sensitivity"]),
        ("Specificity", referral["specificity"]),
        ("Share of people referred", referral["referred_fraction"]),
    ]
    per_class = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{_fmt(v['precision'])}</td><td>{_fmt(v['recall'])}</td>"
        f"<td>{_fmt(v['f1'])}</td><td>{v['support']}</td></tr>"
        for name, v in ((n, evaluation["per_class"][n]) for n in class_names)
    )
    images = "".join(
        f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,"
        f"{base64.b64encode(path.read_bytes()).decode()}'><figcaption>{html.escape(caption)}</figcaption></figure>"
        for caption, path in figures
    )
    note_items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    subgroups = subgroup_table(evaluation.get("subgroups", []))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
figure {{ display: inline-block; margin: .5rem; }} img {{ max-width: 28rem; }}
.notes {{ background: #fff6e0; padding: .5rem 1rem; border-left: 4px solid #e0a000; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="notes"><ul>{note_items}<li>{DISCLAIMER}</li></ul></div>
<h2>Summary</h2><table>{''.join(f'<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>' for k, v in summary_rows)}</table>
<h2>Referral operating point</h2><table>{''.join(f'<tr><th>{html.escape(k)}</th><td>{_fmt(v)}</td></tr>' for k, v in referral_rows)}</table>
<h2>Per class</h2><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>images</th></tr>{per_class}</table>
{subgroups}
<h2>Figures</h2>{images}
</body></html>
"""


SUBGROUP_COLUMNS = (("macro_f1", "Macro F1"), ("mcc", "MCC"), ("auc", "AUC"), ("sensitivity", "Sensitivity"),
                    ("specificity", "Specificity"), ("ece", "ECE"))


def subgroup_table(groups: Sequence[Mapping[str, Any]]) -> str:
    """The by-sex and by-age-band table with 95 % patient-bootstrap intervals ('' when none)."""
    if not groups:
        return ""
    head = "".join(f"<th>{label}</th>" for _, label in SUBGROUP_COLUMNS)
    rows = []
    for group in groups:
        figures = group["figures"]
        cells = "".join(f"<td>{html.escape(Estimate(**figures[key]).text())}</td>" if key in figures
                        else "<td>too few people</td>" for key, _ in SUBGROUP_COLUMNS)
        slope, intercept = group["calibration_slope"], group["calibration_intercept"]
        calibration = (f"{slope:.2f} / {intercept:+.2f}" if slope is not None and intercept is not None else "n/a")
        rows.append(f"<tr><th>{html.escape(group['label'])}</th><td>{group['people']}</td><td>{group['images']}</td>"
                    f"{cells}<td>{calibration}</td></tr>")
    return ("<h2>By sex and age band</h2><p>Figures at the referral threshold, with 95 % intervals from "
            f"{N_BOOTSTRAP} bootstrap resamples of patients; groups of fewer than {MIN_SUBGROUP} people are "
            "counted only. Calibration: slope (1 is ideal) / intercept with the slope fixed at 1 (0 is ideal) "
            "of P(osteoporosis).</p>"
            f"<table><tr><th>group</th><th>people</th><th>images</th>{head}<th>calibration</th></tr>"
            f"{''.join(rows)}</table>")
