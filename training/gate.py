"""Train the hand/wrist gate and write its bundle (``models/gate``): ``make gate-model``.

    python -m training.gate --shared ../shared --out models/gate
    python -m training.gate --figures-only               # the shipped bundle's validation tables

About 20 minutes on 2 CPU cores (45 epochs), reproducible from ``--seed`` (TensorFlow runs with
deterministic ops). The data and its splits are described in :mod:`training.gate_data`;
``../shared/xray-holdout`` is never read here (``training/gate_eval.py`` evaluates on it).

What is learned: a small CNN (about 0.2 M weights) on the 128 px letterboxed CLAHE view
that :func:`screening.anatomy.views.gate_views` makes, over the classes of
:data:`training.gate_data.GATE_CLASSES`. The augmentations imitate what differs between
hospitals and between FracAtlas and everything else: rotation (also by 90 degrees),
flips, zoom and shift (also close-ups, like tightly collimated wrists), exposure and
gamma, noise and blur, and burned-in collimation bars, film borders and side markers,
so that none of them is a cue for the class. On top of those, each epoch shows half of the
training films in another acquisition style (:mod:`training.gate_shift`: close-up crops of
joints, letterboxed dark frames, limbs up to 45 degrees in their frame, small recompressed
films, other display processing), the kinds of film FracAtlas lacks.

Validation is done twice: on the validation films as they are, and on a *shifted
validation* set (the same films in every style, fixed seeds) that says what the styles cost
without touching the hold-out. The best epoch and the thresholds (card ``thresholds``) are
chosen on both together, on the validation split only.
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
from screening.anatomy.locate import Box, locate_hand
from screening.anatomy.views import WORK_SIDE, gate_views
from screening.imaging.decode import decode_image
from screening.imaging.preprocess import PreprocessParams
from training.gate_data import GATE_CLASSES, Example, collect
from training.gate_shift import STYLES, shift, shifted_validation

logger = logging.getLogger(__name__)

PARAMS = PreprocessParams(size=128, clip_limit=2.0, tile_grid=8)
PHANTOM_COUNTS = {"train": (300, 7001), "val": (60, 7002)}  # count, seed
# Training copies per epoch of the small sets that stand for whole kinds of film the large
# FracAtlas set lacks (tightly collimated wrists, square knee crops, scanned films with
# labels); each copy
# is augmented differently.
OVERSAMPLE = {"grazpedwri": 8, "knee": 3, "rsna": 2}
# Share of the training films shown each epoch in other acquisition styles (training/gate_shift.py).
SHIFT_SHARE = 0.5
FRACATLAS_ATTRIBUTION = (
    "FracAtlas: Abedeen I. et al., 'FracAtlas: A Dataset for Fracture Classification, Localization and "
    "Segmentation of Musculoskeletal Radiographs', Scientific Data 10:521 (2023), doi:10.1038/s41597-023-02432-4; "
    "figshare 22363012; licence CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Used to train this "
    "model; body-part labels of its 'hand' rows were revised by eye (training/gate_labels)."
)


@dataclass
class Split:
    """One split: the classifier's inputs and what they came from.

    ``x``: the plain model inputs (N, size, size) float32 in [0, 1]. ``work``: each film's
    working copy (uint8, longer side <= 384 px), from which :mod:`training.gate_shift`
    makes the other acquisition styles; ``boxes``: where the anatomy is in it.
    """

    x: np.ndarray
    y: np.ndarray
    sources: list[str]
    files: list[str]
    keys: list[str]
    work: list[np.ndarray]
    boxes: list[Box | None]

    def rows(self, rows: list[int]) -> Split:
        return Split(
            self.x[rows],
            self.y[rows],
            [self.sources[i] for i in rows],
            [self.files[i] for i in rows],
            [self.keys[i] for i in rows],
            [self.work[i] for i in rows],
            [self.boxes[i] for i in rows],
        )


def model_input(work: np.ndarray) -> np.ndarray:
    """The classifier's input for a working copy: the product's own view (screening.anatomy.views)."""
    return gate_views(work, PARAMS).model_input


def _load(examples: list[Example], cache: Path) -> dict[str, Split]:
    """Decode every file once through the product's decoder and gate view; cached under var/."""
    key = hashlib.sha256(
        json.dumps(
            [[str(e.path), e.label, e.split, e.focus] for e in examples] + [PARAMS.to_dict(), WORK_SIDE, "work-v1"]
        ).encode()
    ).hexdigest()[:16]
    target = cache / f"gate-inputs-{key}.npz"
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        inputs = np.zeros((len(examples), PARAMS.size, PARAMS.size), dtype=np.uint8)
        works = np.zeros((len(examples), WORK_SIDE, WORK_SIDE), dtype=np.uint8)
        shapes = np.zeros((len(examples), 2), dtype=np.int32)
        boxes = np.full((len(examples), 4), -1, dtype=np.int32)
        for index, example in enumerate(examples):
            pixels = decode_image(example.path.read_bytes(), example.path.name).pixels
            views = gate_views(pixels, PARAMS)
            inputs[index] = np.round(views.model_input * 255.0).astype(np.uint8)
            height, width = views.work.shape
            works[index, :height, :width] = np.round(views.work * 255.0).astype(np.uint8)
            shapes[index] = (height, width)
            box = _focus_box(example, width, height) or locate_hand(views.work)
            if box is not None:
                boxes[index] = box
        np.savez_compressed(target, inputs=inputs, works=works, shapes=shapes, boxes=boxes)
    stored = np.load(target)
    inputs, works, shapes, boxes = stored["inputs"], stored["works"], stored["shapes"], stored["boxes"]
    splits: dict[str, Split] = {}
    for name in ("train", "val"):
        rows = [i for i, e in enumerate(examples) if e.split == name]
        splits[name] = Split(
            x=inputs[rows].astype(np.float32) / 255.0,
            y=np.array([GATE_CLASSES.index(examples[i].label) for i in rows], dtype=np.int64),
            sources=[examples[i].source for i in rows],
            files=[str(examples[i].path) for i in rows],
            keys=[examples[i].key for i in rows],
            work=[works[i, : shapes[i, 0], : shapes[i, 1]] for i in rows],
            boxes=[tuple(int(v) for v in boxes[i]) if boxes[i, 0] >= 0 else None for i in rows],  # type: ignore[misc]
        )
    return splits


def _focus_box(example: Example, width: int, height: int) -> Box | None:
    """The example's annotated region of interest in working-copy pixels, if it has one."""
    if example.focus is None:
        return None
    x0, y0, x1, y1 = example.focus
    return (round(x0 * width), round(y0 * height), max(round(x1 * width), 1), max(round(y1 * height), 1))


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
    return split.rows([i for i, source in enumerate(split.sources) for _ in range(OVERSAMPLE.get(source, 1))])


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


def choose_thresholds(p_hand: np.ndarray, is_hand: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """Accept / warning cut-offs on P(hand_wrist), from validation films.

    ``accept``: the threshold in [0.3, 0.9] that maximises balanced accuracy (hands
    accepted + others rejected), ties broken towards 0.5. ``warn``: scores in [warn,
    accept) give a warning instead of a rejection; it is set so that at most 1 % of
    validation non-hands reach it, and never below half of ``accept``. ``weights``
    (default 1 each) say how much each film counts: the plain and the shifted validation
    sets are weighted to count alike (see :func:`train`).
    """
    w = np.ones(len(p_hand)) if weights is None else np.asarray(weights, dtype=np.float64)
    hand_w, other_w = w * is_hand, w * ~is_hand
    hand_total, other_total = max(hand_w.sum(), 1e-12), max(other_w.sum(), 1e-12)
    grid = np.round(np.arange(0.30, 0.901, 0.01), 2)
    scores = [
        (hand_w[p_hand >= t].sum() / hand_total + other_w[p_hand < t].sum() / other_total, -abs(t - 0.5))
        for t in grid
    ]
    accept = float(grid[max(range(len(grid)), key=lambda i: scores[i])])
    order = np.argsort(p_hand[~is_hand])
    others, others_w = p_hand[~is_hand][order], w[~is_hand][order]
    if len(others):
        # The smallest score with at least 99 % of the non-hands' weight at or below it.
        cumulative = np.cumsum(others_w) / others_w.sum()
        quantile = float(others[min(int(np.searchsorted(cumulative, 0.99 - 1e-9)), len(others) - 1)])
    else:
        quantile = 0.0
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


def _epoch_inputs(split: Split, rng: np.random.Generator) -> np.ndarray:
    """One epoch's inputs: SHIFT_SHARE of the films in other acquisition styles, then the usual augmentation."""
    x = split.x.copy()
    for index in np.flatnonzero(rng.random(len(split.y)) < SHIFT_SHARE):
        label = GATE_CLASSES[int(split.y[index])]
        x[index] = model_input(shift(split.work[index], label, split.boxes[index], rng))
    return augment(x, rng)


@dataclass
class Shifted:
    """The shifted validation set: model inputs, true classes, and the style of each copy."""

    x: np.ndarray
    y: np.ndarray
    styles: list[str]


def _shifted(val: Split) -> Shifted:
    labels = [GATE_CLASSES[int(v)] for v in val.y]
    items = shifted_validation(val.work, labels, val.boxes, val.keys, model_input)
    return Shifted(
        x=np.stack([item[2] for item in items]).astype(np.float32),
        y=np.array([val.y[item[0]] for item in items], dtype=np.int64),
        styles=[item[1] for item in items],
    )


def _shifted_metrics(shifted: Shifted, probs: np.ndarray, thresholds: dict[str, float]) -> dict:
    """Hands accepted and others rejected per style, and P(accepted) per true class over every style."""
    p_hand = probs[:, 0]
    accepted, rejected = p_hand >= thresholds["accept"], p_hand < thresholds["warn"]
    is_hand = shifted.y == 0
    styles = np.array(shifted.styles)
    per_style = {}
    for style in (*STYLES, "mixed", "all"):
        rows = np.ones(len(styles), bool) if style == "all" else styles == style
        per_style[style] = {
            "hands": int((rows & is_hand).sum()),
            "hand_accepted": float(accepted[rows & is_hand].mean()),
            "others": int((rows & ~is_hand).sum()),
            "other_rejected": float(rejected[rows & ~is_hand].mean()),
        }
    by_class = {
        name: {"n": int((shifted.y == i).sum()), "accepted": float(accepted[shifted.y == i].mean())}
        for i, name in enumerate(GATE_CLASSES)
    }
    return {"n": len(shifted.y), "per_style": per_style, "accepted_share_by_true_class": by_class}


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
    shifted = _shifted(val_split)
    logger.info("train %d, val %d, shifted val %d", len(train_split.y), len(val_split.y), len(shifted.y))
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
    shifted_targets = keras.utils.to_categorical(shifted.y, len(GATE_CLASSES))
    best = (np.inf, -1, None)
    history = []
    for epoch in range(epochs):
        x = _epoch_inputs(train_split, rng)[..., np.newaxis]
        fit = model.fit(x, targets, sample_weight=weights, batch_size=64, epochs=1, shuffle=True, verbose=0)
        val_loss = float(model.evaluate(val_split.x[..., np.newaxis], val_targets, batch_size=256, verbose=0))
        shifted_loss = float(model.evaluate(shifted.x[..., np.newaxis], shifted_targets, batch_size=256, verbose=0))
        # The epoch kept is the one best on plain and shifted validation films alike.
        score = (val_loss + shifted_loss) / 2
        history.append(
            {"epoch": epoch + 1, "loss": float(fit.history["loss"][0]), "val_loss": val_loss,
             "shifted_val_loss": shifted_loss}
        )  # fmt: skip
        click.echo(
            f"epoch {epoch + 1:2d}/{epochs}  loss {history[-1]['loss']:.4f}  val_loss {val_loss:.4f}  "
            f"shifted_val_loss {shifted_loss:.4f}"
        )
        if score < best[0]:
            best = (score, epoch + 1, model.get_weights())
    model.set_weights(best[2])
    val_probs = _softmax(model.predict(val_split.x[..., np.newaxis], batch_size=256, verbose=0))
    shifted_probs = _softmax(model.predict(shifted.x[..., np.newaxis], batch_size=256, verbose=0))
    copies = len(shifted.y) / max(len(val_split.y), 1)
    thresholds = choose_thresholds(
        np.concatenate([val_probs[:, 0], shifted_probs[:, 0]]),
        np.concatenate([val_split.y == 0, shifted.y == 0]),
        np.concatenate([np.ones(len(val_split.y)), np.full(len(shifted.y), 1 / copies)]),
    )
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
        "thresholds_chosen_on": (
            "the validation split: each validation film as it is and in the shifted styles, weighted so that "
            "the plain and the shifted sets count alike; never the hold-out"
        ),
        "training": {
            "command": f"python -m training.gate --seed {seed} --epochs {epochs} --out {out} --version {version}",
            "seed": seed,
            "epochs": epochs,
            "best_epoch": best[1],
            "best_epoch_by": "mean of the plain and the shifted validation losses",
            "oversample": OVERSAMPLE,
            "acquisition_styles": {
                "share_of_training_films_per_epoch": SHIFT_SHARE,
                "styles": list(STYLES),
                "module": "training/gate_shift.py",
            },
            "history": history,
            "seconds": round(time.monotonic() - started, 1),
            "data": _data_summary(examples),
            "relabelling": "training/gate_labels/fracatlas_hand_relabel.csv: each FracAtlas 'hand' row judged by eye "
            "on contact sheets as hand_wrist, forearm_elbow or unclear (left out)",
            "excluded": "FracAtlas rows with truncated=1; ../shared/xray-holdout (evaluation only)",
        },
        "metrics": {
            "validation": metrics,
            "shifted_validation": _shifted_metrics(shifted, shifted_probs, thresholds),
            "validation_misses": misses,
        },
        "attribution": [FRACATLAS_ATTRIBUTION],
        "intended_use": INTENDED_USE,
        "limitations": list(LIMITS),
        "parameters": int(model.count_params()),
    }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n")
    return card


def figures(card: dict) -> list[str]:
    """The card's validation figures as the Markdown tables of docs/intended-use.md."""
    validation = card["metrics"]["validation"]
    lines = [
        f"`{card['gate_version']}`: {card['parameters']:,} weights; best epoch {card['training']['best_epoch']} "
        f"of {card['training']['epochs']}; thresholds accept >= {card['thresholds']['accept']}, "
        f"warning >= {card['thresholds']['warn']}. Plain validation ({validation['n']} films): hand/wrist "
        f"accepted {validation['hand_accepted']:.1%}, other parts rejected {validation['other_rejected']:.1%}, "
        f"five-way class accuracy {validation['class_accuracy']:.1%}.",
        "",
        "| validation source | n | accepted | warning | rejected |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for source, row in validation["per_source"].items():
        lines.append(f"| {source} | {row['n']} | {row['accepted']} | {row['warning']} | {row['rejected']} |")
    matrix = validation["confusion_matrix"]
    lines += ["", "| true \\ predicted | " + " | ".join(matrix["classes"]) + " |",
              "| --- |" + " ---: |" * len(matrix["classes"])]
    for name, row in zip(matrix["classes"], matrix["rows_true_cols_predicted"], strict=True):
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + " |")
    shifted = card["metrics"].get("shifted_validation")
    if shifted:
        lines += ["", f"Shifted validation ({shifted['n']} copies: every validation film once per style and once "
                  "with a random mix of styles, fixed seeds):", "",
                  "| style | hand/wrist copies | accepted | other copies | rejected |",
                  "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
        for style, row in shifted["per_style"].items():
            lines.append(
                f"| {style} | {row['hands']} | {row['hand_accepted']:.1%} | {row['others']} "
                f"| {row['other_rejected']:.1%} |"
            )
        lines += ["", "| true class (all shifted copies) | n | accepted as hand/wrist |", "| --- | ---: | ---: |"]
        for name, row in shifted["accepted_share_by_true_class"].items():
            lines.append(f"| {name} | {row['n']} | {row['accepted']:.1%} |")
    return lines


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
@click.option("--version", default="1.1.0", show_default=True)
@click.option("--figures-only", is_flag=True, help="Print the figures of the bundle in --out; train nothing.")
def main(shared: Path, out: Path, cache: Path, seed: int, epochs: int, version: str, figures_only: bool) -> None:
    """Train the hand/wrist gate on FracAtlas + xray-samples + phantoms and write its bundle."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if figures_only:
        card = json.loads((out / "card.json").read_text())
    else:
        card = train(shared, out, cache, seed, epochs, version)
    click.echo("\n".join(figures(card)))
    validation = card["metrics"]["validation"]
    click.echo(
        f"{card['gate_version']}: validation hands accepted {validation['hand_accepted']:.1%}, "
        f"others rejected {validation['other_rejected']:.1%}, thresholds {card['thresholds']} -> {out}"
    )


if __name__ == "__main__":
    main()
