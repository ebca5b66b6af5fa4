"""Time from the PACS's C-STORE to every result back in the PACS, for a 1-image and a 50-image study.

    python bench/pacs.py [--images 50]

Starts what tests/e2e/test_pacs.py starts (tests/hospital_systems.py): Debian's Orthanc
on loopback and the product's processes from worker/topology.py (web, the bulk and
express workers, one CPU inference worker, the DICOM listener) on a fresh PostgreSQL
database and Redis database 13, with the tiny test model and
OSTEO_DICOM_STABLE_SECONDS=2 (production default 10: add the difference). Results go
back to Orthanc by C-STORE and by STOW-RS (two destinations). A first 1-image study
warms the workers (models load on first use) and is reported apart; then a warm
1-image study and an N-image study are timed from Orthanc's forward
(``/modalities/osteo/store``) to the moment both destinations report every SR,
Secondary Capture (Grad-CAM, and the measurement where the hand was measured) and the
Encapsulated PDF stored; Orthanc's count of the study's instances is checked after.
The last line of output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fixtures_services import temporary_database  # noqa: E402
from tests.hospital_systems import Systems, hand_study, hospital_systems  # noqa: E402

REDIS_URL = os.environ.get("OSTEO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


def timed_study(systems: Systems, folder: Path, images: int, seed: int) -> float:
    """Seconds from the PACS forwarding an ``images``-image study to all results back in it."""
    study_uid, files = hand_study(folder, images, seed=seed, patient_id=f"BENCH-{seed}")
    systems.orthanc.storescu(*files)
    study = systems.orthanc.study_id(study_uid)
    assert study is not None
    before = systems.batch_ids()
    started = time.monotonic()
    systems.orthanc.post("/modalities/osteo/store", study.encode())
    batch = systems.delivered(before, timeout=1800)  # both destinations report every object stored
    elapsed = time.monotonic() - started
    assert len(systems.orthanc.instances(study_uid)) == images + systems.expected_results(batch)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="osteo-bench-pacs-") as tmp, temporary_database() as database:
        folder = Path(tmp)
        with hospital_systems(database, REDIS_URL, folder / "systems") as systems:
            cold = timed_study(systems, folder, 1, seed=1)
            print(f"1-image study, cold workers (models load on first use): {cold:.1f} s", flush=True)
            warm = timed_study(systems, folder, 1, seed=2)
            print(f"1-image study: {warm:.1f} s", flush=True)
            many = timed_study(systems, folder, args.images, seed=3)
            print(f"{args.images}-image study: {many:.1f} s ({many / args.images:.2f} s per image)", flush=True)
    print(json.dumps({"stable_seconds": 2, "cold_1_image_s": round(cold, 1), "warm_1_image_s": round(warm, 1),
                      "images": args.images, f"warm_{args.images}_images_s": round(many, 1)}))


if __name__ == "__main__":
    main()
