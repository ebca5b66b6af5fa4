"""Two-phase training of the fusion model, evaluation, and the model bundle.

Phase 1 trains the head on a frozen backbone (lr 1e-3), so random head weights
cannot wreck pretrained features; phase 2 fine-tunes everything at a small
learning rate (1e-5 by default, right for ImageNet weights).

The ``compact`` backbone has no pretrained weights: its convolutions start
random, so phase 1 only fits the head to random features and phase 2 has to
learn the features from scratch. 1e-5 is far too small for that; pass
``lr_finetune=1e-3`` (the demo does). For backbones without pretrained weights,
phase 2 also lets BatchNorm layers train: keeping them frozen (the Keras advice
for pretrained nets) would pin them to their initial statistics (mean 0, var 1).

Both phases use focal loss with balanced class weights, EarlyStopping on the
validation loss with ``restore_best_weights``, a learning rate halved when the
validation loss stalls, and a best checkpoint. Then the
held-out split gives the metrics, the calibration temperature and the referral
threshold; the card records them; the bundle and an HTML report are written.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.utils.class_weight import compute_class_weight

from screening.imaging import PreprocessParams
from screening.model import (
    CLASS_NAMES,
    CategoricalFocalLoss,
    ModelCard,
    build_fusion_model,
    load_bundle,
    save_bundle,
    set_backbone_trainable,
)
from screening.model.backbones import resolve_weights
from screening.model.card import DEFAULT_INTENDED_USE, DEFAULT_LIMITATIONS, REFER_THRESHOLD_KEY
from training.dataset import make_dataset
from training.manifest import Manifest, read_manifest, split_by_patient
from training.metrics import DEFAULT_TARGET_SENSITIVITY, apply_temperature, evaluate
from training.phantoms import SYNTHETIC_NOTICE
from training.report import write_evaluation_report
from training.subgroups import cohort_of, subgroup_figures

log = logging.getLogger("osteo.training")

EVALUATION_DIR = "evaluation"
SYNTHETIC_LIMITATION = (
    "Trained ONLY on synthetic phantom images (training/phantoms.py) whose bone density is set by "
    "construction. It has never seen a real patient radiograph and is NOT for clinical use; its "
    "metrics describe the phantoms, not people."
)
HELD_OUT_NOTE = (
    "Metrics are on the held-out 20% of patients (stratified, by patient, seed 42). The same split "
    "chose the early-stopping epoch, the temperature and the referral threshold, so they are "
    "optimistic; run 'osteo evaluate' on an independent manifest for an unbiased estimate."
)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run (recorded in the card)."""

    backbone: str = "efficientnetv2s"
    size: int = 224
    weights: str | None = None
    batch_size: int = 32
    epochs_head: int = 10
    epochs_finetune: int = 20
    lr_head: float = 1e-3
    lr_finetune: float = 1e-5
    patience: int = 5
    focal_gamma: float = 2.0
    seed: int = 42
    target_sensitivity: float = DEFAULT_TARGET_SENSITIVITY
    name: str = "osteo-fusion"
    bn_momentum: float = 0.99
    verbose: int = 1


@dataclass
class TrainResult:
    bundle_dir: Path
    version: str
    evaluation: dict[str, Any]
    seconds: float


def _class_weights(labels: np.ndarray, num_classes: int) -> dict[int, float]:
    """'Balanced' weights n / (k * n_c): rare classes count as much as common ones."""
    classes = np.arange(num_classes)
    weights = compute_class_weight("balanced", classes=classes, y=labels)
    return {int(c): float(w) for c, w in zip(classes, weights, strict=True)}


def _is_synthetic(manifest_path: Path) -> bool:
    notice = manifest_path.parent / "SYNTHETIC.txt"
    return notice.is_file() and notice.read_text() == SYNTHETIC_NOTICE


def _require_empty(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"output directory {out} is not empty; choose a new one")


def _callbacks(checkpoint: Path, patience: int, log_csv: Path) -> list[keras.callbacks.Callback]:
    return [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True),
        # Halve the learning rate when the validation loss stalls for a third of the patience:
        # the later epochs then settle instead of swinging (a run's best epoch, and so the
        # model, was otherwise decided by which swing happened to come last).
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=max(1, patience // 3)),
        keras.callbacks.ModelCheckpoint(checkpoint, monitor="val_loss", save_best_only=True),
        keras.callbacks.CSVLogger(log_csv, append=True),
    ]


def _run_phase(model, name: str, lr: float, epochs: int, data, config: TrainConfig,
               class_weight: dict[int, float], work: Path, history: dict[str, list[float]]) -> None:
    """Compile and fit one phase; append its per-epoch history."""
    if epochs <= 0:
        return
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=CategoricalFocalLoss(gamma=config.focal_gamma),
        metrics=["accuracy"],
    )
    log.info("phase %s: %d epoch(s) max, lr %g, %d trainable weights", name, epochs, lr,
             len(model.trainable_weights))
    fit = model.fit(
        data[0], validation_data=data[1], epochs=epochs, class_weight=class_weight,
        callbacks=_callbacks(work / f"best_{name}.keras", config.patience, work / "training_log.csv"),
        shuffle=False,  # the tf.data pipeline shuffles (seeded)
        verbose=config.verbose,
    )
    for key, values in fit.history.items():
        history.setdefault(key, []).extend(float(v) for v in values)


def _unfreeze(model, pretrained: bool) -> None:
    set_backbone_trainable(model, True)
    if not pretrained:  # random features: BatchNorm must learn its statistics too
        for layer in model.get_layer("backbone").layers:
            layer.trainable = True


def predict_manifest(model, manifest: Manifest, params: PreprocessParams, batch_size: int) -> np.ndarray:
    """Raw (uncalibrated) class probabilities for every manifest row, through the training loader's crop."""
    data = make_dataset(manifest, params, len(CLASS_NAMES), batch_size, training=False)
    return np.asarray(model.predict(data, verbose=0), dtype=np.float64)


def _card(config: TrainConfig, manifest: Manifest, split: tuple[Manifest, Manifest],
          evaluation: dict[str, Any], synthetic: bool, seconds: float) -> ModelCard:
    train_part, val_part = split
    limitations = list(DEFAULT_LIMITATIONS) + [HELD_OUT_NOTE]
    if synthetic:
        limitations.insert(0, SYNTHETIC_LIMITATION)
    return ModelCard(
        name=config.name,
        backbone=config.backbone,
        input_size=config.size,
        preprocessing=PreprocessParams(size=config.size).to_dict(),
        calibration_temperature=evaluation["calibration"]["temperature"],
        thresholds={REFER_THRESHOLD_KEY: evaluation["referral"]["threshold"]},
        training_data={
            "source": str(manifest.path),
            "synthetic": synthetic,
            "images": len(manifest.rows),
            "patients": len(set(manifest.groups())),
            "class_counts": manifest.class_counts(),
            "train_class_counts": train_part.class_counts(),
            "held_out_class_counts": val_part.class_counts(),
            "split": "stratified 80/20 by patient, seed 42",
            "training_config": asdict(config),
            "training_seconds": round(seconds, 1),
        },
        metrics={"held_out": evaluation},
        intended_use=(
            "DEMONSTRATION ONLY: exercises the screening software end to end on synthetic phantoms. "
            "Not for clinical use." if synthetic else DEFAULT_INTENDED_USE
        ),
        limitations=limitations,
        synthetic_demo=synthetic,
    )


def train(manifest_path: Path, out: Path, config: TrainConfig, checkpoint_dir: Path | None = None) -> TrainResult:
    """Validate, train in two phases, evaluate, and save a bundle + report in ``out``."""
    started = time.perf_counter()
    out = Path(out)
    _require_empty(out)
    manifest = read_manifest(manifest_path)  # every data problem surfaces before any training
    train_idx, val_idx = split_by_patient(manifest)
    train_part, val_part = manifest.subset(train_idx), manifest.subset(val_idx)
    log.info("manifest %s: %d images; train %s; held-out %s", manifest.path, len(manifest.rows),
             train_part.class_counts(), val_part.class_counts())
    keras.utils.set_random_seed(config.seed)  # Python, NumPy and TensorFlow
    params = PreprocessParams(size=config.size)
    data = (
        make_dataset(train_part, params, len(CLASS_NAMES), config.batch_size, training=True, seed=config.seed),
        make_dataset(val_part, params, len(CLASS_NAMES), config.batch_size, training=False),
    )
    class_weight = _class_weights(train_part.labels(), len(CLASS_NAMES))
    log.info("class weights %s", class_weight)
    pretrained = resolve_weights(config.backbone, config.weights) is not None
    model = build_fusion_model(config.backbone, config.size, config.weights, bn_momentum=config.bn_momentum)
    work = Path(checkpoint_dir) if checkpoint_dir else out.with_name(out.name + ".checkpoints")
    work.mkdir(parents=True, exist_ok=True)
    (work / "training_log.csv").unlink(missing_ok=True)  # CSVLogger appends across the two phases
    history: dict[str, list[float]] = {}
    set_backbone_trainable(model, False)
    _run_phase(model, "head", config.lr_head, config.epochs_head, data, config, class_weight, work, history)
    _unfreeze(model, pretrained)
    _run_phase(model, "finetune", config.lr_finetune, config.epochs_finetune, data, config, class_weight,
               work, history)
    raw = predict_manifest(model, val_part, params, config.batch_size)
    evaluation = evaluate(val_part.labels(), raw, CLASS_NAMES, target_sensitivity=config.target_sensitivity)
    seconds = time.perf_counter() - started
    synthetic = _is_synthetic(Path(manifest_path))
    card = _card(config, manifest, (train_part, val_part), evaluation, synthetic, seconds)
    bundle = save_bundle(model, card, out)
    notes = [HELD_OUT_NOTE] + ([SYNTHETIC_LIMITATION] if synthetic else [])
    write_evaluation_report(out / EVALUATION_DIR, evaluation, val_part.labels(), raw, CLASS_NAMES,
                            title=f"Evaluation of {bundle.version}", notes=notes, history=history)
    shutil.copyfile(work / "training_log.csv", out / EVALUATION_DIR / "training_log.csv")
    log.info("saved %s to %s in %.0f s: macro F1 %.3f, MCC %.3f, AUC %s", bundle.version, out, seconds,
             evaluation["macro_f1"], evaluation["mcc"], evaluation["auc_macro_ovr"])
    return TrainResult(out, bundle.version, evaluation, seconds)


def evaluate_bundle(bundle_path: Path, manifest_path: Path, out_dir: Path, batch_size: int = 32) -> dict[str, Any]:
    """Evaluate a saved bundle on a labelled manifest with the card's temperature and threshold."""
    manifest = read_manifest(manifest_path, min_per_class=1)
    bundle = load_bundle(bundle_path)
    card = bundle.card
    params = PreprocessParams.from_dict(card.preprocessing)
    raw = predict_manifest(bundle.model, manifest, params, batch_size)
    evaluation = evaluate(manifest.labels(), raw, card.class_names, temperature=card.calibration_temperature,
                          threshold=card.refer_threshold)
    calibrated = apply_temperature(raw, card.calibration_temperature)
    evaluation["subgroups"] = [group.to_dict() for group in subgroup_figures(
        manifest.labels(), calibrated, cohort_of(manifest), card.class_names, card.refer_threshold)]
    evaluation["model_version"] = card.version
    evaluation["manifest"] = str(manifest.path)
    notes = [f"Model {card.version} on {manifest.path} ({len(manifest.rows)} images), "
             "with the temperature and referral threshold stored in its card."]
    if card.synthetic_demo:
        notes.append(SYNTHETIC_LIMITATION)
    write_evaluation_report(out_dir, evaluation, manifest.labels(), raw, card.class_names,
                            title=f"Evaluation of {card.version}", notes=notes)
    return evaluation
