"""Inference throughput, measured side by side in one run on the same batches.

    python bench/inference.py [--backbone efficientnetv2s] [--size 224] [--batches 4] [--quick]

Prints images/s for
  (a) the raw forward pass: ``model(x)`` in a compiled tf.function, batch 32;
  (b) the full worker path per batch: PNG bytes -> decode -> CLAHE preprocess ->
      predict + Grad-CAM (one graph pass) -> JET/HOT/VIRIDIS overlays as PNG bytes,
      with decode/preprocess of the next batch and overlay encoding of the previous
      one running in a thread pool while the model runs (OpenCV releases the GIL);
  (c) a naive loop: per image, one ``model.predict`` and one full-model GradientTape;
then the ratios b/a and b/c. The last line is one JSON object with every figure.

Inputs are synthetic 16-bit X-ray-like PNGs (~600x800) made here; the model has random
weights, which changes no timing. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from screening.imaging import PreprocessParams, decode_image, preprocess  # noqa: E402
from screening.model import ModelCard, build_fusion_model, encode_tabular, load_bundle, save_bundle  # noqa: E402
from screening.model.inference import Predictor  # noqa: E402
from screening.model.network import backbone_of, head_of  # noqa: E402
from screening.model.overlays import render_overlays  # noqa: E402

BATCH = 32


class Clock:
    """Images per wall-clock second and per CPU-second of this process (all threads).

    Other processes may share the machine; the CPU-second figure does not depend on
    how much of the machine they took, so its ratios estimate a dedicated machine.
    """

    def __init__(self, images: int) -> None:
        self.images = images

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu

    @property
    def per_s(self) -> float:
        return self.images / self.wall

    @property
    def per_cpu_s(self) -> float:
        return self.images / self.cpu


def synthetic_xray_png(seed: int, height: int = 800, width: int = 600) -> bytes:
    """A 16-bit PNG with a dark background, a soft-tissue blob and bright 'bones'."""
    rng = np.random.default_rng(seed)
    image = np.full((height, width), 3000, np.float32)
    cv2.ellipse(image, (width // 2, height // 2 + 80), (200, 300), 0, 0, 360, 18000, -1)
    for finger in range(5):
        x = 120 + finger * 90 + int(rng.integers(-10, 10))
        cv2.rectangle(image, (x, 60 + finger * 10), (x + 40, 420), 38000, -1)
    cv2.ellipse(image, (width // 2, 560), (150, 110), 0, 0, 360, 42000, -1)
    image = cv2.GaussianBlur(image, (0, 0), 6) + rng.normal(0, 900, image.shape)
    ok, data = cv2.imencode(".png", np.clip(image, 0, 65535).astype(np.uint16))
    assert ok
    return data.tobytes()


def prepare_one(data: bytes, params: PreprocessParams) -> tuple[np.ndarray, np.ndarray]:
    prepared = preprocess(decode_image(data).pixels, **params.to_dict())
    return prepared.model_input, prepared.clahe


def prepare_batch(pool: ThreadPoolExecutor, pngs: list[bytes], params: PreprocessParams):
    results = list(pool.map(lambda d: prepare_one(d, params), pngs))
    return np.stack([r[0] for r in results]), np.stack([r[1] for r in results])


def render_batch(pool: ThreadPoolExecutor, clahe: np.ndarray, heatmaps: np.ndarray) -> list[dict]:
    return list(pool.map(render_overlays, clahe, heatmaps))


def time_raw_forward(model, images: np.ndarray, tabular: np.ndarray, batches: int) -> float:
    forward = tf.function(lambda x, t: model({"image": x, "tabular": t}, training=False))
    x, t = tf.constant(images), tf.constant(tabular)
    forward(x, t).numpy()  # trace + warm up
    with Clock(batches * len(images)) as clock:
        for _ in range(batches):
            forward(x, t).numpy()
    return clock


def time_full_path(predictor: Predictor, batches_png: list[list[bytes]], tabular: np.ndarray,
                   params: PreprocessParams, workers: int) -> float:
    """Pipelined: prepare batch k+1 and encode overlays of batch k-1 while batch k runs."""
    with ThreadPoolExecutor(workers) as image_pool, ThreadPoolExecutor(2) as stage_pool:
        clock = Clock(sum(len(b) for b in batches_png)).__enter__()
        next_inputs = stage_pool.submit(prepare_batch, image_pool, batches_png[0], params)
        rendering = []
        for index in range(len(batches_png)):
            images, clahe = next_inputs.result()
            if index + 1 < len(batches_png):
                next_inputs = stage_pool.submit(prepare_batch, image_pool, batches_png[index + 1], params)
            _, heatmaps = predictor.predict_arrays(images, tabular[: len(images)])
            rendering.append(stage_pool.submit(render_batch, image_pool, clahe, heatmaps))
        overlays = [r.result() for r in rendering]
        clock.__exit__()
    assert all(len(o) == 3 for batch in overlays for o in batch)
    return clock


def time_naive(model, pngs: list[bytes], params: PreprocessParams) -> float:
    """The textbook loop: eager, one image at a time, the whole model on the tape."""
    backbone, head = backbone_of(model), head_of(model)
    tabular = tf.constant(encode_tabular(720, "F")[None])

    def one(data: bytes) -> dict:
        image, clahe = prepare_one(data, params)
        x = tf.constant(image[None])
        probabilities = model.predict({"image": x, "tabular": tabular}, verbose=0)
        with tf.GradientTape() as tape:
            features = backbone(x, training=False)
            tape.watch(features)
            logits = head([features, tabular], training=False)
            score = logits[:, int(np.argmax(probabilities[0]))]
        grads = tape.gradient(score, features)
        cam = tf.nn.relu(tf.reduce_sum(features * tf.reduce_mean(grads, axis=(1, 2), keepdims=True), -1))[0]
        cam = cv2.resize(cam.numpy(), clahe.shape[::-1])
        return render_overlays(clahe, cam / max(float(cam.max()), 1e-12))

    one(pngs[0])  # warm up
    with Clock(len(pngs)) as clock:
        for data in pngs:
            one(data)
    return clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="efficientnetv2s")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batches", type=int, default=4, help="timed batches of 32 for (a) and (b)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating (a)/(b) rounds; medians reported")
    parser.add_argument("--naive-images", type=int, default=16)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--quick", action="store_true", help="2 batches, 1 round, 6 naive images")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.rounds, args.naive_images = 2, 1, 6

    params = PreprocessParams(size=args.size)
    print(f"backbone={args.backbone} size={args.size} batch={BATCH} batches={args.batches} "
          f"workers={args.workers} cpus={os.cpu_count()} gpus={len(tf.config.list_physical_devices('GPU'))} "
          f"tf={tf.__version__} python={platform.python_version()}")
    print("model weights: RANDOM (timing only; ImageNet weights change no timing)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model = build_fusion_model(args.backbone, args.size)
    with tempfile.TemporaryDirectory() as scratch:
        card = ModelCard(name="bench", backbone=args.backbone, input_size=args.size, synthetic_demo=True)
        bundle = load_bundle(save_bundle(model, card, Path(scratch) / "bundle").path)
    predictor = Predictor(bundle, batch_size=BATCH)

    unique = [synthetic_xray_png(seed) for seed in range(8)]
    pngs = [unique[i % len(unique)] for i in range(BATCH * (args.batches + 1))]
    batches_png = [pngs[i:i + BATCH] for i in range(0, len(pngs), BATCH)]
    tabular = np.tile(encode_tabular(720, "F"), (BATCH, 1))
    with ThreadPoolExecutor(args.workers) as pool:
        images, _ = prepare_batch(pool, batches_png[0], params)

    # Other processes may share this machine: alternate (a) and (b) and keep the median of
    # each, so a burst of outside load hits both sides rather than skewing the ratio.
    time_full_path(predictor, batches_png[:1], tabular, params, args.workers)  # warm up
    raws, fulls = [], []
    for _ in range(args.rounds):
        raws.append(time_raw_forward(bundle.model, images, tabular, args.batches))
        fulls.append(time_full_path(predictor, batches_png[1:], tabular, params, args.workers))
    naive = time_naive(bundle.model, pngs[: args.naive_images], params)

    figures = {"backbone": args.backbone, "size": args.size, "batch": BATCH, "batches": args.batches,
               "rounds": args.rounds, "cpus": os.cpu_count(), "random_weights": True,
               "load_average_1min": round(os.getloadavg()[0], 2)}
    for key, label, clocks in [("raw_forward", "(a) raw forward, compiled, batch 32", raws),
                               ("full_path", "(b) full path (decode+CLAHE+predict+Grad-CAM+3 PNG overlays)", fulls),
                               ("naive", "(c) naive per-image loop (model.predict + GradientTape)", [naive])]:
        figures[f"{key}_images_per_s"] = round(float(np.median([c.per_s for c in clocks])), 3)
        figures[f"{key}_images_per_cpu_s"] = round(float(np.median([c.per_cpu_s for c in clocks])), 3)
        print(f"{label}: {figures[f'{key}_images_per_s']:.2f} images/s, "
              f"{figures[f'{key}_images_per_cpu_s']:.2f} images per CPU-second "
              f"(rounds: {', '.join(f'{c.per_s:.2f}' for c in clocks)} images/s)")
    for name, top, bottom in [("full_over_raw", "full_path", "raw_forward"),
                              ("full_over_naive", "full_path", "naive")]:
        figures[name] = round(figures[f"{top}_images_per_s"] / figures[f"{bottom}_images_per_s"], 3)
        figures[f"{name}_cpu"] = round(figures[f"{top}_images_per_cpu_s"]
                                       / figures[f"{bottom}_images_per_cpu_s"], 3)
    print(f"load average during the run: {figures['load_average_1min']} on {os.cpu_count()} CPUs")
    print(f"ratio (b)/(a) = {figures['full_over_raw']:.3f} wall, {figures['full_over_raw_cpu']:.3f} "
          "per CPU-second (target >= 0.8)")
    print(f"ratio (b)/(c) = {figures['full_over_naive']:.3f} wall, {figures['full_over_naive_cpu']:.3f} "
          "per CPU-second (target >= 3)")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
