"""Train a tiny model on phantoms through the CLI; the bundle reloads, predicts and carries its metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

pytest.importorskip("tensorflow")

from screening.cli import cli  # noqa: E402
from screening.model import CLASS_NAMES, load_bundle  # noqa: E402
from screening.model.inference import Predictor  # noqa: E402
from training.phantoms import write_dataset  # noqa: E402
from training.who import WHO_CLASSES  # noqa: E402


@pytest.fixture(scope="module")
def phantoms(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantoms")
    return write_dataset(out, count=60, seed=11, size=96, class_balance=(0.4, 0.3, 0.3), workers=1)


@pytest.fixture(scope="module")
def trained(phantoms, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "bundle"
    args = ["train", str(phantoms), "--out", str(out), "--backbone", "compact", "--size", "64",
            "--epochs-head", "1", "--epochs-finetune", "1", "--lr-finetune", "1e-3", "--bn-momentum", "0.9", "--batch-size", "16",
            "--checkpoint-dir", str(out.parent / "ckpt"), "--quiet"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out, result.output


@pytest.mark.slow
def test_bundle_reloads_and_predicts(trained, phantoms):
    out, output = trained
    assert "held-out: macro F1" in output
    bundle = load_bundle(out)
    assert bundle.card.input_size == 64 and bundle.card.backbone == "compact"
    predictor = Predictor(bundle, batch_size=4)
    images = np.random.default_rng(0).uniform(0, 255, (3, 64, 64, 3)).astype(np.float32)
    tabular = np.array([[0.7, 1.0], [0.5, 0.0], [0.8, 1.0]], np.float32)
    predictions = predictor.predict_batch(images, tabular)
    assert len(predictions) == 3
    assert sum(predictions[0].probabilities.values()) == pytest.approx(1.0, abs=1e-4)


@pytest.mark.slow
def test_card_holds_metrics_threshold_and_synthetic_warning(trained):
    out, _ = trained
    card = json.loads((out / "card.json").read_text())
    held_out = card["metrics"]["held_out"]
    for key in ("accuracy", "macro_f1", "mcc", "auc_macro_ovr", "confusion_matrix", "per_class"):
        assert key in held_out
    assert sum(map(sum, held_out["confusion_matrix"])) == held_out["n"] > 0
    assert card["calibration_temperature"] == pytest.approx(held_out["calibration"]["temperature"])
    threshold = card["thresholds"]["refer_osteoporosis_probability"]
    assert threshold == held_out["referral"]["threshold"] and held_out["referral"]["sensitivity"] >= 0.9
    assert card["synthetic_demo"] is True and card["training_data"]["synthetic"] is True
    assert "NOT for clinical use" in card["limitations"][0]
    assert sum(card["training_data"]["class_counts"].values()) == 60
    report = (out / "evaluation" / "evaluation.html").read_text()
    assert report.count("data:image/png;base64,") == 4


@pytest.mark.slow
def test_evaluate_command_reuses_the_cards_operating_point(trained, phantoms, tmp_path):
    out, _ = trained
    result = CliRunner().invoke(cli, ["evaluate", str(out), str(phantoms), "--out", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    ev = json.loads((tmp_path / "ev" / "evaluation.json").read_text())
    card = json.loads((out / "card.json").read_text())
    assert ev["n"] == 60
    assert ev["referral"]["threshold"] == card["thresholds"]["refer_osteoporosis_probability"]
    assert ev["model_version"] == card["version"]


def test_bad_manifest_is_refused_with_every_row_before_training(phantoms, tmp_path):
    bad = tmp_path / "bad.csv"
    lines = phantoms.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    rows[3] = rows[3].replace("images/", "images/missing-")
    rows[7] = ",".join(rows[7].split(",")[:3] + ["X"] + rows[7].split(",")[4:])
    bad.write_text("\n".join([header, *rows]) + "\n")
    (tmp_path / "images").symlink_to(phantoms.parent / "images")
    result = CliRunner().invoke(cli, ["train", str(bad), "--out", str(tmp_path / "never"), "--backbone", "compact"])
    assert result.exit_code != 0
    assert "row 5: image not found" in result.output and "row 9: unknown sex 'X'" in result.output
    assert not (tmp_path / "never").exists()


def test_class_order_matches_the_model():
    assert tuple(CLASS_NAMES) == WHO_CLASSES


@pytest.mark.slow
def test_evaluate_report_gives_figures_by_sex_and_age_band_with_intervals(trained, phantoms, tmp_path):
    out, _ = trained
    result = CliRunner().invoke(cli, ["evaluate", str(out), str(phantoms), "--out", str(tmp_path / "ev")])
    assert result.exit_code == 0, result.output
    groups = {g["label"]: g for g in json.loads((tmp_path / "ev" / "evaluation.json").read_text())["subgroups"]}
    assert groups["all"]["images"] == 60
    assert groups["sex F"]["images"] + groups["sex M"]["images"] == 60
    assert sum(g["images"] for label, g in groups.items() if label.startswith("age ")) == 60
    f1 = groups["all"]["figures"]["macro_f1"]
    assert f1["low"] <= f1["value"] <= f1["high"]
    assert "By sex and age band" in (tmp_path / "ev" / "evaluation.html").read_text()


@pytest.mark.slow
def test_evaluate_candidate_prints_both_models_side_by_side(trained, phantoms, tmp_path):
    out, _ = trained
    figures = tmp_path / "comparison.json"
    result = CliRunner().invoke(cli, ["evaluate-candidate", str(out), "--manifest", str(phantoms),
                                      "--active", "models/demo", "--bootstrap", "50", "--json", str(figures)])
    assert result.exit_code == 0, result.output
    comparison = json.loads(figures.read_text())
    assert comparison["candidate"]["version"] == json.loads((out / "card.json").read_text())["version"]
    assert comparison["active"]["version"] == json.loads(Path("models/demo/card.json").read_text())["version"]
    assert "60 images of" in result.output and "difference in macro_f1" in result.output
    assert "sex F" in result.output and "age " in result.output


@pytest.mark.slow
def test_a_candidate_compared_with_itself_differs_by_exactly_nothing(trained, phantoms, tmp_path):
    out, _ = trained
    figures = tmp_path / "same.json"
    result = CliRunner().invoke(cli, ["evaluate-candidate", str(out), "--manifest", str(phantoms),
                                      "--active", str(out), "--bootstrap", "50", "--json", str(figures)])
    assert result.exit_code == 0, result.output
    for difference in json.loads(figures.read_text())["differences"].values():
        assert difference == {"value": 0.0, "low": 0.0, "high": 0.0}
