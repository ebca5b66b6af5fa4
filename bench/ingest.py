"""Ingest CPU time per image with and without the metacarpal measurement, side by side in one run.

    python bench/ingest.py [--images 40] [--size 2048] [--rounds 3]

The same phantom archive (PNG hands of ``--size`` px with a pixel spacing, so every hand is
measured in millimetres where it can be) goes through the real ingest step (embedded
default: SQLite and a local object store, nothing enqueued) ``--rounds`` times with the
measurement and as often without it (``screening.ingest.measure_image`` replaced by a stub
that records nothing), alternating, in one process with the hand/wrist gate already
loaded. The fastest round of each is kept. Ingest includes reading the archive, decoding,
the quality checks, the gate, the measurement, the stored PNG, the overlay and the rows.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import screening.ingest  # noqa: E402
from screening.accounts import add_hospital, get_hospital  # noqa: E402
from screening.anatomy.gate import load_gate  # noqa: E402
from screening.config import load_settings  # noqa: E402
from screening.db import Image, schema, session_scope  # noqa: E402
from screening.measurement import ImageMeasurement, measure_image  # noqa: E402
from screening.pipeline import PipelineContext, ingest, submit_batch  # noqa: E402
from screening.storage import open_store  # noqa: E402
from tests.factories import write_phantom_archive  # noqa: E402


def log(message: str) -> None:
    print(message, flush=True)


def _not_measured(*_args: Any) -> ImageMeasurement:
    return ImageMeasurement({}, None)


def ingest_seconds(root: Path, archive: Path, run: str) -> tuple[float, int, int]:
    """Seconds for one ingest of ``archive`` into a fresh embedded database; images and hands measured."""
    settings = load_settings({"OSTEO_VAR_DIR": str(root / run), "OSTEO_REPORTS_ENABLED": "false"})
    schema.upgrade(settings.database_url)
    store = open_store(settings)
    with session_scope(settings.database_url) as session, archive.open("rb") as stream:
        add_hospital(session, "BENCH", "Bench Hospital", "Bench", "Bench")
        batch_id = submit_batch(session, store, lambda name, args: None, get_hospital(session, "BENCH"),
                                stream, archive.name).batch.id
    ctx = PipelineContext(settings=settings, store=store, enqueue=lambda name, args: None)
    start = time.perf_counter()
    ingest(ctx, batch_id)
    seconds = time.perf_counter() - start
    with session_scope(settings.database_url) as session:
        images = list(session.query(Image).filter(Image.batch_id == batch_id, Image.storage_key.is_not(None)))
        return seconds, len(images), sum(1 for image in images if image.measured)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--size", type=int, default=2048, help="phantom side in pixels (hospital CR: 2000-3000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    load_gate()  # once, outside the clock, as a worker process does
    results: dict[str, Any] = {"images": args.images, "size": args.size, "rounds": args.rounds}
    with tempfile.TemporaryDirectory(prefix="osteo-bench-ingest-") as tmp:
        root = Path(tmp)
        archive = write_phantom_archive(root / "hands.zip", args.images, seed=21, size=args.size,
                                        overrides={i: {"pixel_spacing_mm": "0.1"} for i in range(args.images)})
        ingest_seconds(root, archive, "warmup")
        timings: dict[str, list[float]] = {"with": [], "without": []}
        for round_number in range(args.rounds):
            for label in ("without", "with"):
                screening.ingest.measure_image = measure_image if label == "with" else _not_measured  # type: ignore[assignment]
                seconds, stored, measured = ingest_seconds(root, archive, f"{label}-{round_number}")
                timings[label].append(seconds)
                results[f"measured_{label}"] = measured
        screening.ingest.measure_image = measure_image  # type: ignore[assignment]
    with_ms = 1000 * min(timings["with"]) / stored
    without_ms = 1000 * min(timings["without"]) / stored
    results.update({"stored_images": stored, "ingest_ms_per_image_with": with_ms,
                    "ingest_ms_per_image_without": without_ms, "measurement_ms_per_image": with_ms - without_ms,
                    "ratio_with_to_without": with_ms / without_ms})
    log(f"{stored} of {args.images} phantom hands at {args.size} px stored; {results['measured_with']} measured")
    log(f"ingest without measurement: {without_ms:8.1f} ms/image (fastest of {args.rounds})")
    log(f"ingest with measurement:    {with_ms:8.1f} ms/image (fastest of {args.rounds})")
    log(f"measurement adds:           {with_ms - without_ms:8.1f} ms/image; ratio {with_ms / without_ms:.2f}")
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
