"""CPU cost of metacarpal radiogrammetry per image, beside the cost of decoding it.

    python bench/radiogrammetry.py [--images 40] [--side 1024]

Inputs: the RSNA hand radiographs of ../shared/xray-samples when present (resized so the
longest side is ``--side`` pixels and re-encoded as 8-bit PNG here), else synthetic
phantoms rendered at that size. Both stages run one after the other on the same files,
in this process, single-threaded OpenCV, timed with ``time.process_time`` (CPU seconds
of this process, so other load on the machine does not inflate them). Prints per-image
milliseconds for decode and measure, their ratio, the share measured, and a last line
with one JSON object holding every figure. Target (issue 14): measure <= 100 ms/image.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2

from screening.anatomy.radiogrammetry import measure_hand
from screening.imaging import decode_image

SHARED = Path(__file__).resolve().parents[2] / "shared" / "xray-samples" / "rsna-boneage-hand" / "images"


def _inputs(count: int, side: int) -> tuple[list[bytes], str]:
    """PNG bytes at ``side`` px longest side: real RSNA hands if present, else phantoms."""
    if SHARED.is_dir():
        blobs = []
        for path in sorted(SHARED.glob("*.png"))[:count]:
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None:
                raise ValueError(f"{path} is not a readable image")
            scale = side / max(image.shape)
            resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                                 interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
            blobs.append(cv2.imencode(".png", resized)[1].tobytes())
        return blobs, "rsna-boneage-hand"
    from training.phantoms import write_dataset

    with tempfile.TemporaryDirectory() as tmp:
        manifest = write_dataset(Path(tmp), count, seed=5, size=side, workers=1)
        return [p.read_bytes() for p in sorted((manifest.parent / "images").glob("*.png"))], "phantoms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--side", type=int, default=1024)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    blobs, source = _inputs(args.images, args.side)

    decoded = []
    start = time.process_time()
    for blob in blobs:
        decoded.append(decode_image(blob).pixels)
    decode_s = time.process_time() - start

    measure_hand(decoded[0])  # first call pays imports and caches; not counted
    start = time.process_time()
    measured = sum(measure_hand(pixels).measured for pixels in decoded)
    measure_s = time.process_time() - start

    n = len(blobs)
    figures = {
        "source": source,
        "images": n,
        "longest_side_px": args.side,
        "decode_ms_per_image": round(1000 * decode_s / n, 1),
        "measure_ms_per_image": round(1000 * measure_s / n, 1),
        "measure_over_decode": round(measure_s / max(decode_s, 1e-9), 2),
        "share_measured": round(measured / n, 3),
        "target_ms": 100,
        "python": platform.python_version(),
        "cpu": platform.processor() or platform.machine(),
    }
    print(f"{n} {source} images at {args.side} px longest side (CPU time, one thread)")
    print(f"  decode   {figures['decode_ms_per_image']:7.1f} ms/image")
    print(f"  measure  {figures['measure_ms_per_image']:7.1f} ms/image  (target <= 100)")
    print(f"  measure / decode = {figures['measure_over_decode']}; measured {measured}/{n}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
