"""Train the hand/wrist gate and write its bundle (``models/gate``): ``make gate-model``.

    python -m training.gate --shared ../shared --out models/gate

About 20 minutes on 2 CPU cores (45 epochs), reproducible from ``--seed`` (TensorFlow runs with
deterministic ops). The data and its splits are described in :mod:`training.gate_data`;
``../shared/xray-holdout`` is never read here (``training/gate_eval.py`` evaluates on it).

What is learned: a small CNN (about 0.2 M weights) on the 128 px letterboxed CLAHE view
that :func:`screening.anatomy.views.gate_views` makes, over the classes of
:data:`training.gate_data.GATE_CLASSES`. The augmentations imitate what differs between
hospitals and between FracAtlas and everything else: rotation (also by 90 degrees),
flips, zoom and shift (also close-ups, like tightly collimated wrists), exposure and
gamma, noise and blur, and burned-in collimation bars, film borders and side markers,
so that none of them is a cue for the class.

Thresholds (card ``thresholds``) are chosen on the validation split only.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from screening.anatomy.gate import GATE_VERSION_PREFIX, INTENDED_USE, LIMITS
from screening.anatomy.views import gate_views
from screening.imaging.decode import decode_image
from screening.imaging.preprocess import PreprocessParams
from training.gate_data import GATE_CLASSES, Example, collect

logger = logging.getLogger(__name__)

PARAMS = PreprocessParams(size=128, clip_limit=2.0, tile_grid=8)
PHANTOM_COUNTS = {"train": (300, 7001), "val": (60, 7002)}  # count, seed
# Training copies per epoch of the small sets that stand for whole kinds of film the large
# FracAtlas set lacks (tightly collimated wrists, square knee crops, scanned films with
# labels); each copy
# is augmented differently.
OVERSAMPLE = {"grazpedwri": 8, "knee": 3, "rsna": 2}
FRACATLAS_ATTRIBUTION = (
    "FracAtlas: Abedeen I. et al., 'FracAtlas: A Dataset for Fracture Classification, Localization and "
    "Segmentation of Musculoskeletal Radiographs', Scientific Data 10:521 (2023), doi:10.1038/s41597-023-02432-4; "
    "figshare 22363012; licence CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Used to train this "
    "model; body-part labels of its 'hand' rows were revised by eye (training/gate_labels)."
)


@dataclass
class Split:
    """Model inputs (N, size, size) float32, class indices, and where each came from."""

    x: np.ndarray
    y: np.ndarray
    sources: list[str]
    files: list[str]


def _load(examples: list[Example], cache: Path) -> dict[str, Split]:
    """Decode every file once through the product's decoder and gate view; cached under var/."""
    key = hashlib.sha256(
        json.dumps([[str(e.path), e.label, e.split] for e in examples] + [PARAMS.to_dict()]).encode()
    ).hexdigest()[:16]
    target = cache / f"gate-inputs-{key}.npz"
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        inputs = np.zeros((len(examples), PARAMS.size, PARAMS.size), dtype=np.uint8)
        for index, example in enumerate(examples):
            pixels = decode_image(example.path.read_bytes(), example.path.name).pixels
            inputs[index] = np.round(gate_views(pixels, PARAMS).model_input * 255.0).astype(np.uint8)
        np.savez_compressed(target, inputs=inputs)
    inputs = np.load(target)["inputs"]
    splits: dict[str, Split] = {}
    for name in ("train", "val"):
        rows = [i for i, e in enumerate(examples) if e.split == name]
        splits[name] = Split(
            x=inputs[rows].astype(np.float32) / 255.0,
            y=np.array([GATE_CLASSES.index(examples[i].label) for i in rows], dtype=np.int64),
            sources=[examples[i].source for i in rows],
            files=[str(examples[i].path) for i in rows],
        )
    return splits


def _phantom_examples(cache: Path) -> list[Example]:
    """Synthetic phantoms written once under var/ (hand_wrist)."""
    from training.phantoms import write_dataset

    examples = []
    for split, (count, seed) in PHANTOM_COUNTS.items():
        folder = cache / f"phantoms-{split}-{seed}"
        if not (folder / "manifest.csv").exists():
            write_dataset(folder, count, seed=seed, size=512, class_balance=(0.5, 0.3, 0.2))
        examples += [
            Example(path, "hand_wrist", "phantom", split) for path in sorted((folder / "images").glob("*.png"))
        ]
    return examples


def _oversampled(split: Split) -> Split:
    """``split`` with the OVERSAMPLE sources repeated."""
    rows = [i for i, source in enumerate(split.sources) for _ in range(OVERSAMPLE.get(source, 1))]
    return Split(split.x[rows], split.y[rows], [split.sources[i] for i in rows], [split.files[i] for i in rows])


def augment(batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random geometry, exposure and film artefacts; (N, S, S) float32 in [0, 1]."""
    import cv2

    size = batch.shape[1]
    out = np.empty_like(batch)
    for index, image in enumerate(batch):
        angle = rng.uniform(-25, 25) + (rng.choice([-90, 90]) if rng.random() < 0.25 else 0)
        if rng.random() < 0.3:
            # A close-up: tightly collimated wrists (GRAZPEDWRI-DX) fill the film.
            zoom, shift = float(rng.uniform(1.3, 2.0)), 0.25
        else:
            zoom, shift = float(np.exp(rng.uniform(np.log(0.8), np.log(1.3)))), 0.1
        matrix = cv2.getRotationMatrix2D((size / 2, size / 2), angle, zoom)
        matrix[:, 2] += rng.uniform(-shift, shift, 2) * size
        warped = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)
        if rng.random() < 0.5:
            warped = warped[:, ::-1]
        if rng.random() < 0.15:
            warped = warped[::-1, :]
        warped = np.clip(warped, 0, 1) ** float(np.exp(rng.normal(0, 0.25)))
        warped = warped * rng.uniform(0.75, 1.15) + rng.uniform(-0.08, 0.08)
        if rng.random() < 0.35:
            warped = _film_artefact(warped, rng)
        if rng.random() < 0.3:
            warped = cv2.GaussianBlur(warped, (0, 0), rng.uniform(0.5, 1.2))
        warped = warped + rng.normal(0, rng.uniform(0, 0.03), warped.shape)
        out[index] = np.clip(warped, 0, 1)
    return out


def _film_artefact(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bright collimation bar or frame edge, or a small bright side marker."""
    size = image.shape[0]
    image = image.copy()
    if rng.random() < 0.6:
        width = int(rng.integers(3, size // 6))
        level = rng.uniform(0.6, 1.0)
        side = rng.integers(4)
        if side == 0:
            image[:width] = level
        elif side == 1:
            image[-width:] = level
        elif side == 2:
            image[:, :width] = level
        else:
            image[:, -width:] = level
    else:
        h, w = (int(v) for v in rng.integers(4, 12, 2))
        y, x = int(rng.integers(0, size - h)), int(rng.integers(0, size - w))
        image[y : y + h, x : x + w] = rng.uniform(0.7, 1.0)
    return image


def build_model(size: int, classes: int):
    """A small CNN: five conv blocks, global average pooling, one dense layer."""
    import keras
    from keras import layers

    inputs = keras.Input((size, size, 1), name="image")
    x = inputs
    for index, (filters, stride, pool) in enumerate(
        [(16, 2, False), (32, 1, True), (64, 1, True), (96, 1, True), (128, 1, False)]
    ):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=f"conv{index}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"bn{index}")(x)
        x = layers.Activation("relu", name=f"relu{index}")(x)
        if pool:
            x = layers.MaxPooling2D(name=f"pool{index}")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(0.3, name="dropout")(x)
    outputs = layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="hand_gate")


def _sample_weights(y: np.ndarray, classes: int) -> np.ndarray:
    """Per-sample weights, square-root inverse class frequency (mean 1): rare classes count
    more without drowning the common ones."""
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    weights = np.sqrt(counts.sum() / np.maximum(counts, 1) / classes)[y]
    return weights / weights.mean()


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def choose_thresholds(p_hand: np.ndarray, is_hand: np.ndarray) -> dict[str, float]:
    """Accept / warning cut-offs on P(hand_wrist), from the validation split.

    ``accept``: the threshold in [0.3, 0.9] that maximises balanced accuracy (hands
    accepted + others rejected), ties broken towards 0.5. ``warn``: scores in [warn,
    accept) give a warning instead of a rejection; it is set so that at most 1 % of
    validation non-hands reach it, and never below half of ``accept``.
    """
    grid = np.round(np.arange(0.30, 0.901, 0.01), 2)
    scores = [((p_hand[is_hand] >= t).mean() + (p_hand[~is_hand] < t).mean(), -abs(t - 0.5)) for t in grid]
    accept = float(grid[max(range(len(grid)), key=lambda i: scores[i])])
    others = np.sort(p_hand[~is_hand])
    quantile = float(others[int(np.ceil(0.99 * len(others))) - 1]) if len(others) else 0.0
    warn = float(min(accept, max(accept / 2, round(quantile + 0.005, 3))))
    return {"accept": accept, "warn": warn}


def _metrics(split: Split, probs: np.ndarray, thresholds: dict[str, float]) -> dict:
    predicted = probs.argmax(axis=1)
    p_hand = probs[:, 0]
    is_hand = split.y == 0
    confusion = np.zeros((len(GATE_CLASSES), len(GATE_CLASSES)), dtype=int)
    for truth, guess in zip(split.y, predicted, strict=True):
        confusion[truth, guess] += 1
    per_source: dict[str, dict[str, float | int]] = {}
    for source in sorted(set(split.sources)):
        rows = np.array([s == source for s in split.sources])
        for group, mask in (("hand_wrist", rows & is_hand), ("other", rows & ~is_hand)):
            if mask.any():
                per_source[f"{source}/{group}"] = {
                    "n": int(mask.sum()),
                    "accepted": int((p_hand[mask] >= thresholds["accept"]).sum()),
                    "warning": int(
                        ((p_hand[mask] >= thresholds["warn"]) & (p_hand[mask] < thresholds["accept"])).sum()
                    ),
                    "rejected": int((p_hand[mask] < thresholds["warn"]).sum()),
                }
    return {
        "n": len(split.y),
        "class_counts": {name: int((split.y == i).sum()) for i, name in enumerate(GATE_CLASSES)},
        "class_accuracy": float((predicted == split.y).mean()),
        "hand_accepted": float((p_hand[is_hand] >= thresholds["accept"]).mean()),
        "other_rejected": float((p_hand[~is_hand] < thresholds["warn"]).mean()),
        "confusion_matrix": {"classes": list(GATE_CLASSES), "rows_true_cols_predicted": confusion.tolist()},
        "per_source": per_source,
    }


def train(shared: Path, out: Path, cache: Path, seed: int, epochs: int, version: str) -> dict:
    """Train, pick the best epoch and thresholds on validation, write ``out`` (model.keras + card.json)."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    started = time.monotonic()
    examples = collect(shared) + _phantom_examples(cache)
    splits = _load(examples, cache)
    train_split, val_split = _oversampled(splits["train"]), splits["val"]
    logger.info("train %d, val %d", len(train_split.y), len(val_split.y))
    model = build_model(PARAMS.size, len(GATE_CLASSES))
    steps = epochs * int(np.ceil(len(train_split.y) / 64))
    schedule = keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.05),
    )
    rng = np.random.default_rng(seed)
    weights = _sample_weights(train_split.y, len(GATE_CLASSES))
    targets = keras.utils.to_categorical(train_split.y, len(GATE_CLASSES))
    val_targets = keras.utils.to_categorical(val_split.y, len(GATE_CLASSES))
    best = (np.inf, -1, None)
    history = []
    for epoch in range(epochs):
        x = augment(train_split.x, rng)[..., np.newaxis]
        fit = model.fit(x, targets, sample_weight=weights, batch_size=64, epochs=1, shuffle=True, verbose=0)
        val_loss = float(model.evaluate(val_split.x[..., np.newaxis], val_targets, batch_size=256, verbose=0))
        history.append({"epoch": epoch + 1, "loss": float(fit.history["loss"][0]), "val_loss": val_loss})
        click.echo(f"epoch {epoch + 1:2d}/{epochs}  loss {history[-1]['loss']:.4f}  val_loss {val_loss:.4f}")
        if val_loss < best[0]:
            best = (val_loss, epoch + 1, model.get_weights())
    model.set_weights(best[2])
    val_probs = _softmax(model.predict(val_split.x[..., np.newaxis], batch_size=256, verbose=0))
    thresholds = choose_thresholds(val_probs[:, 0], val_split.y == 0)
    metrics = _metrics(val_split, val_probs, thresholds)
    misses = [
        {
            "file": f,
            "true": GATE_CLASSES[t],
            "p_hand": round(float(p[0]), 3),
            "predicted": GATE_CLASSES[int(p.argmax())],
        }
        for f, t, p in zip(val_split.files, val_split.y, val_probs, strict=True)
        if (t == 0) != (p[0] >= thresholds["accept"])
    ]
    out.mkdir(parents=True, exist_ok=True)
    # Saved uncompiled: the optimiser's state would triple the file and is never used at inference.
    shipped = build_model(PARAMS.size, len(GATE_CLASSES))
    shipped.set_weights(model.get_weights())
    shipped.save(out / "model.keras")
    card = {
        "name": "hand-wrist-gate",
        "version": version,
        "gate_version": f"{GATE_VERSION_PREFIX}{version}",
        "created_at": datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
        "classes": list(GATE_CLASSES),
        "accepted_class": GATE_CLASSES[0],
        "inputs": {
            "pixels": "decoded radiograph, 2-D float32 in [0, 1], bone bright (screening.imaging)",
            "view": "screening.anatomy.views.gate_views: working copy (longer side <= 384 px), "
            "then screening.imaging.preprocess letterbox + CLAHE",
            "preprocess": PARAMS.to_dict(),
            "channels": 1,
            "scale": "[0, 1]",
        },
        "thresholds": thresholds,
        "training": {
            "command": f"python -m training.gate --seed {seed} --epochs {epochs} --out {out}",
            "seed": seed,
            "epochs": epochs,
            "best_epoch": best[1],
            "oversample": OVERSAMPLE,
            "history": history,
            "seconds": round(time.monotonic() - started, 1),
            "data": _data_summary(examples),
            "relabelling": "training/gate_labels/fracatlas_hand_relabel.csv: each FracAtlas 'hand' row judged by eye "
            "on contact sheets as hand_wrist, forearm_elbow or unclear (left out)",
            "excluded": "FracAtlas rows with truncated=1; ../shared/xray-holdout (evaluation only)",
        },
        "metrics": {"validation": metrics, "validation_misses": misses},
        "attribution": [FRACATLAS_ATTRIBUTION],
        "intended_use": INTENDED_USE,
        "limitations": list(LIMITS),
        "parameters": int(model.count_params()),
    }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def _data_summary(examples: list[Example]) -> dict[str, dict[str, int]]:
    summary: dict[str, dict[str, int]] = {}
    for example in examples:
        key = f"{example.source}/{example.label}"
        summary.setdefault(key, {"train": 0, "val": 0})[example.split] += 1
    return dict(sorted(summary.items()))


@click.command()
@click.option(
    "--shared", type=click.Path(file_okay=False, path_type=Path), default=Path("../shared"), show_default=True
)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("models/gate"), show_default=True)
@click.option(
    "--cache", type=click.Path(file_okay=False, path_type=Path), default=Path("var/gate-data"), show_default=True
)
@click.option("--seed", type=int, default=20261127, show_default=True)
@click.option("--epochs", type=int, default=45, show_default=True)
@click.option("--version", default="1.0.0", show_default=True)
def main(shared: Path, out: Path, cache: Path, seed: int, epochs: int, version: str) -> None:
    """Train the hand/wrist gate on FracAtlas + xray-samples + phantoms and write its bundle."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    card = train(shared, out, cache, seed, epochs, version)
    validation = card["metrics"]["validation"]
    click.echo(
        f"{card['gate_version']}: validation hands accepted {validation['hand_accepted']:.1%}, "
        f"others rejected {validation['other_rejected']:.1%}, thresholds {card['thresholds']} -> {out}"
    )


if __name__ == "__main__":
    main()
