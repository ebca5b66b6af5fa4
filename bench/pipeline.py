"""Pipeline throughput against raw model throughput, and ingest memory, in one run.

    python bench/pipeline.py [--images 1000] [--archive-gb 2] [--quick]

For each model (EfficientNetV2S at 224 px with random weights, then the shipped
demo bundle if present) it measures, on the same machine in the same run:

* raw: ``model(x)`` in a compiled function, batch 32, images/s;
* pipeline: an N-image synthetic archive through ingest + screening with a real
  Celery worker process (reports off), images/s from enqueue to the last
  prediction, after a warm-up batch so the worker has loaded its model.

Then it streams a large archive (default 2 GB) through the ingest step alone in a
child process and prints that process's peak resident memory.

The broker is the machine's Redis when it answers, else Celery's filesystem
transport. The last line of output is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from screening.accounts import add_hospital, get_hospital  # noqa: E402
from screening.config import Settings, load_settings  # noqa: E402
from screening.db import Batch, BatchStatus, schema, session_scope  # noqa: E402
from screening.pipeline import submit_batch  # noqa: E402
from screening.storage import open_store  # noqa: E402
from training.phantoms import SCREENING_MIN_AGE, write_dataset  # noqa: E402
from worker.topology import celery_worker_command  # noqa: E402

DEMO_BUNDLE = REPO / "models" / "demo"


def log(message: str) -> None:
    print(message, flush=True)


def redis_url() -> str | None:
    try:
        import redis

        url = "redis://127.0.0.1:6379/14"
        redis.Redis.from_url(url, socket_connect_timeout=1).flushdb()
        return url
    except Exception:  # noqa: BLE001 - any failure means: use the filesystem broker
        return None


def make_archive(path: Path, count: int, seed: int, size: int = 512) -> Path:
    """A zip of ``count`` phantom PNGs with manifest.csv (PNG is stored, not recompressed)."""
    source = path.parent / f"{path.stem}-src"
    manifest = write_dataset(source, count, seed=seed, size=size, workers=os.cpu_count() or 1,
                             min_age_years=SCREENING_MIN_AGE)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.write(manifest, "manifest.csv")
        for png in sorted((source / "images").iterdir()):
            zf.write(png, f"images/{png.name}")
    shutil.rmtree(source)
    return path


def efficientnet_bundle(directory: Path) -> Path:
    from screening.model import ModelCard, build_fusion_model, save_bundle
    from screening.model.runtime import configure_threads

    configure_threads()  # the same TensorFlow threading as the inference worker, for a fair raw figure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random weights are fine for timing; said in the output
        model = build_fusion_model("efficientnetv2s", 224)
    save_bundle(model, ModelCard(name="bench-efficientnetv2s-random", backbone="efficientnetv2s", input_size=224),
                directory)
    return directory


def raw_throughput(bundle_dir: Path, batches: int) -> float:
    import tensorflow as tf

    from screening.model import load_bundle

    bundle = load_bundle(bundle_dir)
    size = bundle.card.input_size
    rng = np.random.default_rng(0)
    images = tf.constant(rng.uniform(0, 255, (32, size, size, 3)).astype(np.float32))
    tabular = tf.constant(rng.uniform(0, 1, (32, 2)).astype(np.float32))
    forward = tf.function(lambda x, t: bundle.model({"image": x, "tabular": t}, training=False))
    forward(images, tabular).numpy()  # trace and warm up
    start = time.perf_counter()
    for _ in range(batches):
        forward(images, tabular).numpy()
    return 32 * batches / (time.perf_counter() - start)


class Deployment:
    """A var dir, a database, a store, and the CPU and inference worker processes."""

    TIMEOUT_S = 1800

    def __init__(self, root: Path, bundle_dir: Path, broker: str | None) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.env = {"OSTEO_VAR_DIR": str(root / "var"), "OSTEO_MODEL_BUNDLE": str(bundle_dir),
                    "OSTEO_REPORTS_ENABLED": "false", "OSTEO_CHUNK_SIZE": "32"}
        if broker:
            self.env["OSTEO_REDIS_URL"] = broker
        self.settings: Settings = load_settings(self.env)
        schema.upgrade(self.settings.database_url)
        with session_scope(self.settings.database_url) as session:
            add_hospital(session, "BENCH", "Benchmark Hospital", "Bench", "Bench")
        self.store = open_store(self.settings)
        # As deployed: a CPU worker (ingest, and the finalize step on the reports queue) and an
        # inference worker (one model-holding process), so ingest overlaps with inference.
        self.log = (root / "worker.log").open("wb")
        self.workers = [subprocess.Popen(celery_worker_command(queues, f"bench-{name}"),
                                         env={**os.environ, **self.env}, cwd=REPO, stdout=self.log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
                        for name, queues in (("cpu", "ingest,reports"), ("inference", "inference"))]

    def run(self, archive: Path) -> tuple[int, float]:
        from worker.app import create_app
        from worker.routing import publisher

        held: list[tuple[str, tuple]] = []  # the clock starts when ingest is published, not while storing
        with session_scope(self.settings.database_url) as session, archive.open("rb") as stream:
            batch = submit_batch(session, self.store, lambda name, args: held.append((name, args)),
                                 get_hospital(session, "BENCH"), stream, archive.name).batch
        start = time.perf_counter()
        publisher(create_app(self.settings))(*held[0])
        while True:
            with session_scope(self.settings.database_url) as session:
                current = session.get(Batch, batch.id)
            if current.status in (BatchStatus.COMPLETE, BatchStatus.COMPLETE_WITH_ERRORS,
                                  BatchStatus.NEEDS_ATTENTION, BatchStatus.FAILED):
                return current.screened, time.perf_counter() - start
            if time.perf_counter() - start > self.TIMEOUT_S:
                raise RuntimeError(f"batch not finished after {self.TIMEOUT_S} s; see {self.log.name}")
            time.sleep(0.2)

    def close(self) -> None:
        for worker in self.workers:
            os.killpg(worker.pid, 15)
            worker.wait(30)
        self.log.close()


def measure_model(label: str, bundle_dir: Path, archive: Path, warmup: Path, root: Path, broker: str | None,
                  raw_batches: int) -> dict[str, float]:
    log(f"\n== {label} ==")
    # Raw throughput is measured before and after the pipeline run and averaged, so a
    # drift of the machine's speed during the run does not favour either side.
    raw_before = raw_throughput(bundle_dir, raw_batches)
    log(f"raw model(x), batch 32, before:   {raw_before:8.1f} images/s")
    deployment = Deployment(root, bundle_dir, broker)
    try:
        deployment.run(warmup)
        screened, seconds = deployment.run(archive)
    finally:
        deployment.close()
    pipeline = screened / seconds
    log(f"pipeline ingest+screen ({screened} img): {pipeline:8.1f} images/s ({seconds:.1f} s)")
    raw_after = raw_throughput(bundle_dir, raw_batches)
    raw = (raw_before + raw_after) / 2
    log(f"raw model(x), batch 32, after:    {raw_after:8.1f} images/s (mean {raw:.1f})")
    log(f"ratio pipeline/raw:               {pipeline / raw:8.2f}")
    return {"raw_images_per_s": raw, "raw_before_images_per_s": raw_before, "raw_after_images_per_s": raw_after,
            "pipeline_images_per_s": pipeline, "pipeline_seconds": seconds, "images": screened,
            "ratio_pipeline_to_raw": pipeline / raw}


def big_archive(path: Path, gigabytes: float) -> tuple[Path, int]:
    """Unique incompressible 16-bit 1024² PNGs (2 MiB each) stored in a zip of ``gigabytes``."""
    rng = np.random.default_rng(1)
    base = (rng.random((1024, 1024)) * 50000 + 5000).astype(np.uint16)
    import cv2

    count = max(1, int(gigabytes * 1024**3 // (2 * 1024**2)))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        lines = ["file,patient_id,age_years,sex"]
        for i in range(count):
            base[0, :4] = np.frombuffer(np.int64(i).tobytes(), np.uint16)  # unique bytes per file
            zf.writestr(f"img{i:05d}.png", cv2.imencode(".png", base, [cv2.IMWRITE_PNG_COMPRESSION, 0])[1].tobytes())
            lines.append(f"img{i:05d}.png,P{i},{60 + i % 30},{'FM'[i % 2]}")
        zf.writestr("manifest.csv", "\n".join(lines) + "\n")
    return path, count


# VmHWM of the child itself: ru_maxrss would include the parent's peak from before the exec.
INGEST_CHILD = """
import sys, time
from screening.config import load_settings
from screening.pipeline import PipelineContext, ingest
from screening.storage import open_store
settings = load_settings()
ctx = PipelineContext(settings=settings, store=open_store(settings), enqueue=lambda name, args: None)
start = time.perf_counter()
ingest(ctx, sys.argv[1])
peak_kb = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(time.perf_counter() - start, peak_kb, "tensorflow" in sys.modules)
"""


def ingest_memory(root: Path, gigabytes: float) -> dict[str, float]:
    log(f"\n== ingest memory, {gigabytes:g} GB archive ==")
    archive, count = big_archive(root / "big.zip", gigabytes)
    env = {"OSTEO_VAR_DIR": str(root / "var-big"), "OSTEO_REPORTS_ENABLED": "false"}
    settings = load_settings(env)
    schema.upgrade(settings.database_url)
    with session_scope(settings.database_url) as session, archive.open("rb") as stream:
        add_hospital(session, "BIG", "Big Archive Hospital", "Bench", "Bench")
        batch = submit_batch(session, open_store(settings), lambda name, args: None,
                             get_hospital(session, "BIG"), stream, archive.name).batch
    size = archive.stat().st_size
    archive.unlink()
    out = subprocess.run([sys.executable, "-c", INGEST_CHILD, batch.id], env={**os.environ, **env}, cwd=REPO,
                         capture_output=True, text=True, check=True)
    seconds, max_rss_kb, tf_loaded = out.stdout.split()
    peak_mb = int(max_rss_kb) / 1024
    log(f"archive: {size / 1024**3:.2f} GB, {count} files; ingest {float(seconds):.1f} s")
    log(f"peak resident memory of ingest:   {peak_mb:8.1f} MB (target < 300 MB; TensorFlow loaded: {tf_loaded})")
    return {"archive_gb": size / 1024**3, "files": count, "ingest_seconds": float(seconds),
            "ingest_peak_rss_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--archive-gb", type=float, default=2.0)
    parser.add_argument("--raw-batches", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="100 images, 0.2 GB: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.images, args.archive_gb, args.raw_batches = 100, 0.2, 3
    broker = redis_url()
    log(f"broker: {'Redis' if broker else 'filesystem transport'}; CPU cores: {os.cpu_count()}; "
        "EfficientNetV2S uses random weights (timing only)")
    results: dict[str, object] = {"images": args.images, "broker": "redis" if broker else "filesystem"}
    with tempfile.TemporaryDirectory(prefix="osteo-bench-") as tmp:
        root = Path(tmp)
        archive = make_archive(root / "batch.zip", args.images, seed=11)
        warmup = make_archive(root / "warmup.zip", 32, seed=12)
        models = [("efficientnetv2s_224", efficientnet_bundle(root / "effnet"))]
        if (DEMO_BUNDLE / "card.json").exists():
            models.append(("demo_model", DEMO_BUNDLE))
        for label, bundle_dir in models:
            results[label] = measure_model(label, bundle_dir, archive, warmup, root / label, broker, args.raw_batches)
        results["ingest_memory"] = ingest_memory(root, args.archive_gb)
    log("\n== ratios ==")
    for label, _ in models:
        ratio = results[label]["ratio_pipeline_to_raw"]  # type: ignore[index]
        log(f"{label}: pipeline/raw = {ratio:.2f} (target >= 0.75)")
    log(f"ingest peak RSS: {results['ingest_memory']['ingest_peak_rss_mb']:.0f} MB (target < 300)")  # type: ignore[index]
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    main()
