"""Per-image CPU cost of the hand/wrist gate + localisation, beside the decode cost, in one run.

    python bench/gate.py [--images 60] [--repeat 3] [--threads 1]

For each image (real radiographs from ../shared/xray-samples and FracAtlas when they are
there, else synthetic phantoms made here): decode the file bytes as ingest does
(:func:`screening.imaging.decode_image`), then ``HandGate.judge`` on the pixels, which
is the working copy + CLAHE view, localisation and the CNN. Each stage is timed in CPU
seconds of this process (all threads) and wall seconds; the gate's own three parts
(views, locate, CNN) are timed separately too. Target (issue 13): gate + localisation
<= 30 ms of CPU per image. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from screening.anatomy.locate import locate_hand
from screening.anatomy.views import gate_views
from screening.imaging import decode_image

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


def real_files(limit: int) -> list[Path]:
    """A mix of sizes: RSNA PNGs, 16-bit GRAZPEDWRI PNGs, FracAtlas JPEGs, full-size CR DICOMs."""
    samples = SHARED / "xray-samples"
    groups = [
        sorted((samples / "rsna-boneage-hand" / "images").glob("*.png")),
        sorted((samples / "grazpedwri-dx-osteopenia-wrist" / "images").glob("*.png")),
        sorted((SHARED / "fracatlas" / "images").glob("*.jpg")),
        sorted((samples / "dicom-cr-radiographs").glob("*.dcm")),
    ]
    files: list[Path] = []
    while len(files) < limit and any(groups):
        for group in groups:
            if group and len(files) < limit:
                files.append(group.pop(0))
    return files


def phantom_files(count: int, folder: Path) -> list[Path]:
    from training.phantoms import write_dataset

    write_dataset(folder, count, seed=4242, size=1024, bit_depth=16)
    return sorted((folder / "images").glob("*.png"))


class Timer:
    """Accumulates CPU seconds (this process, all threads) and wall seconds."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.wall = 0.0

    def __enter__(self) -> Self:
        self._cpu, self._wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu += time.process_time() - self._cpu
        self.wall += time.perf_counter() - self._wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the images (after one warm-up)")
    parser.add_argument("--threads", type=int, default=1, help="TensorFlow intra-op threads (ingest workers: 1)")
    parser.add_argument("--gate", type=Path, default=None, help="gate bundle (default models/gate)")
    args = parser.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from screening.anatomy.gate import load_gate

    gate = load_gate(args.gate)
    with tempfile.TemporaryDirectory() as tmp:
        files = real_files(args.images) if SHARED.exists() else phantom_files(args.images, Path(tmp))
        source = "real radiographs from ../shared" if SHARED.exists() else "synthetic 16-bit phantoms (1024 px)"
        blobs = [path.read_bytes() for path in files]
    megapixels = []
    for blob in blobs[:3]:  # warm-up: TensorFlow traces the graph on the first call
        gate.judge(decode_image(blob).pixels)
    decode, judge, views, locate, cnn = Timer(), Timer(), Timer(), Timer(), Timer()
    for _ in range(args.repeat):
        for blob in blobs:
            with decode:
                pixels = decode_image(blob).pixels
            with judge:
                gate.judge(pixels)
            with views:
                view = gate_views(pixels, gate.params)
            with locate:
                locate_hand(view.work)
            with cnn:
                gate.probabilities(view.model_input)
            megapixels.append(pixels.size / 1e6)
    n = len(blobs) * args.repeat
    ms = {
        name: 1000 * t.cpu / n
        for name, t in (("decode", decode), ("gate", judge), ("views", views), ("locate", locate), ("cnn", cnn))
    }
    wall = {name: 1000 * t.wall / n for name, t in (("decode", decode), ("gate", judge))}
    print(
        f"{len(blobs)} images ({source}), {args.repeat} passes, median {np.median(megapixels):.2f} MP, "
        f"max {max(megapixels):.1f} MP; TensorFlow intra-op threads {args.threads}; "
        f"{platform.processor() or platform.machine()}"
    )
    print(f"decode (ingest's decoder):          {ms['decode']:6.2f} ms CPU/image  ({wall['decode']:.2f} ms wall)")
    print(f"gate + localisation (judge):        {ms['gate']:6.2f} ms CPU/image  ({wall['gate']:.2f} ms wall)")
    print(f"  of which views (shrink + CLAHE):  {ms['views']:6.2f} ms CPU/image")
    print(f"  of which locate_hand:             {ms['locate']:6.2f} ms CPU/image")
    print(f"  of which CNN ({gate.gate_version}): {ms['cnn']:6.2f} ms CPU/image")
    print(
        f"gate / decode = {ms['gate'] / ms['decode']:.2f}; target gate <= 30 ms CPU: "
        f"{'met' if ms['gate'] <= 30 else 'NOT met'}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs"
    )
    print(
        json.dumps(
            {
                "images": len(blobs),
                "passes": args.repeat,
                "source": source,
                "threads": args.threads,
                "gate_version": gate.gate_version,
                "decode_ms_cpu": round(ms["decode"], 3),
                "gate_ms_cpu": round(ms["gate"], 3),
                "views_ms_cpu": round(ms["views"], 3),
                "locate_ms_cpu": round(ms["locate"], 3),
                "cnn_ms_cpu": round(ms["cnn"], 3),
                "decode_ms_wall": round(wall["decode"], 3),
                "gate_ms_wall": round(wall["gate"], 3),
                "gate_over_decode": round(ms["gate"] / ms["decode"], 3),
                "median_megapixels": round(float(np.median(megapixels)), 3),
                "load_average_1min": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
