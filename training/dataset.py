"""``tf.data`` input pipelines built on THE preprocessing of ingest and inference.

Each image goes through ``decode_image``, the hand crop of
:mod:`screening.anatomy.prepare` and ``preprocess``: the exact steps ingest and
the inference workers apply, so the model learns from the hand region it is
later shown. The hand gate (a small CNN) judges every file once, up front and
outside ``tf.data`` (a Keras model called from ``tf.numpy_function`` threads can
starve the pipeline's thread pool); the crops are then made inside
``tf.numpy_function``, in parallel (``num_parallel_calls=AUTOTUNE``, order kept
so runs are reproducible). The decoded set is cached in memory when it is small
enough, then shuffled, batched, augmented (training only) and prefetched.

Training films (not validation or test) first get real-film context around the
phantom hand (:mod:`training.film_context`: portrait films, uneven exposure, a
textured background, markers and labels), drawn once per image from ``(seed, index)``, so the model learns that
none of it is evidence.
"""

from __future__ import annotations

import logging

import keras
import numpy as np
import tensorflow as tf
from keras import layers

from screening.anatomy.gate import Box
from screening.anatomy.prepare import crop_hand, hand_region
from screening.imaging import PreprocessParams, decode_image, preprocess
from screening.model import encode_tabular_batch
from training.film_context import add_film_context
from training.manifest import Manifest

# Cache decoded inputs in RAM below this size (float32 s*s*3 per image); above it,
# decode every epoch rather than risk swapping the machine.
CACHE_LIMIT_BYTES = 2 * 1024**3
NO_BOX = (-1, -1, -1, -1)  # the gate found no hand: the whole image is used

logger = logging.getLogger(__name__)


def _pixels(path: str) -> np.ndarray:
    with open(path, "rb") as fh:
        return decode_image(fh.read(), filename=path).pixels


def locate_hands(paths: list[str], cropped: list[bool] | None = None) -> np.ndarray:
    """(N, 4) int32 hand boxes from the gate, NO_BOX where it rejected the file.

    Training and evaluation sets should hold hand/wrist films only; a rejected one
    is logged and kept whole rather than silently dropped, so set sizes never change.
    Files marked ``cropped`` (manifest ``hand_crop=yes``: the hand region stored at
    ingest) are used whole without asking the gate, as inference uses them.
    """
    boxes = []
    for index, path in enumerate(paths):
        if cropped is not None and cropped[index]:
            boxes.append(NO_BOX)
            continue
        _crop, verdict = hand_region(_pixels(path))
        if verdict.hand_box is None:
            logger.warning("hand gate rejected a training image (%s): %s", path, verdict.reason)
        boxes.append(verdict.hand_box or NO_BOX)
    return np.asarray(boxes, dtype=np.int32).reshape(-1, 4)


def load_model_input(path: str, params: PreprocessParams, box: Box | None,
                     context: np.random.Generator | None = None) -> np.ndarray:
    """One image file and its hand box -> float32 (s, s, 3) in [0, 255], via the shared preprocessing.

    With ``context`` (training only) the film first gets real-film context around the hand.
    """
    pixels = _pixels(path)
    if context is not None and box is not None:
        pixels, box = add_film_context(pixels, box, context)
    return preprocess(crop_hand(pixels, box), **params.to_dict()).model_input


def _box(values: np.ndarray) -> Box | None:
    box = tuple(int(v) for v in values)
    return None if box == NO_BOX else (box[0], box[1], box[2], box[3])


def tabular_inputs(manifest: Manifest) -> np.ndarray:
    """(N, 2) age/sex encoding shared with inference (``encode_tabular``)."""
    return encode_tabular_batch([r.age_months for r in manifest.rows], [r.sex for r in manifest.rows])


def one_hot_labels(manifest: Manifest, num_classes: int) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[manifest.labels()]


def estimated_bytes(n_images: int, size: int) -> int:
    return n_images * size * size * 3 * 4


def augmenter(seed: int) -> keras.Sequential:
    """Random horizontal flip (left/right hand), brightness and contrast on [0, 255] inputs."""
    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomBrightness(0.1, value_range=(0.0, 255.0), seed=seed + 1),
            layers.RandomContrast(0.15, value_range=(0.0, 255.0), seed=seed + 2),
        ],
        name="augment",
    )


def make_dataset(
    manifest: Manifest,
    params: PreprocessParams,
    num_classes: int,
    batch_size: int,
    training: bool,
    seed: int = 42,
) -> tf.data.Dataset:
    """Batches of ``({"image", "tabular"}, one_hot)`` for ``model.fit`` / ``predict``.

    Training films get real-film context (once per image, from ``(seed, index)``); training
    batches are shuffled (seeded, reshuffled each epoch) and augmented.
    """
    paths = [str(r.path) for r in manifest.rows]
    size = params.size

    def read(path: bytes, box: np.ndarray, index: np.int64) -> np.ndarray:
        context = np.random.default_rng((seed, int(index))) if training else None
        return load_model_input(path.decode(), params, _box(box), context)

    def load(path: tf.Tensor, box: tf.Tensor, index: tf.Tensor) -> tf.Tensor:
        image = tf.numpy_function(read, [path, box, index], tf.float32)
        image.set_shape((size, size, 3))
        return image

    indices = np.arange(len(paths), dtype=np.int64)
    boxes = locate_hands(paths, [r.hand_crop for r in manifest.rows])
    images = tf.data.Dataset.from_tensor_slices((paths, boxes, indices)).map(
        load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    rest = tf.data.Dataset.from_tensor_slices((tabular_inputs(manifest), one_hot_labels(manifest, num_classes)))
    data = tf.data.Dataset.zip((images, rest)).map(lambda image, tl: ({"image": image, "tabular": tl[0]}, tl[1]))
    if estimated_bytes(len(paths), size) <= CACHE_LIMIT_BYTES:
        data = data.cache()
    if training:
        data = data.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    data = data.batch(batch_size)
    if training:
        augment = augmenter(seed)
        data = data.map(
            lambda x, y: ({"image": tf.clip_by_value(augment(x["image"], training=True), 0.0, 255.0),
                           "tabular": x["tabular"]}, y),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    return data.prefetch(tf.data.AUTOTUNE)
