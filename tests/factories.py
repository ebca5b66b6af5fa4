"""Builders for test inputs: synthetic archives of phantom X-rays and a tiny model bundle."""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile
from pathlib import Path

from training.phantoms import SCREENING_MIN_AGE, write_dataset


def write_phantom_archive(path: Path, count: int, seed: int = 0, size: int = 320,
                          extra: dict[str, bytes] | None = None) -> Path:
    """A zip (or .tar.gz by suffix) of ``count`` phantom PNGs plus manifest.csv and ``extra`` members.

    The phantom patients are all in the default screening population (50 and over).
    """
    source = path.parent / f"{path.stem}-src"
    manifest = write_dataset(source, count, seed=seed, size=size, min_age_years=SCREENING_MIN_AGE)
    members: dict[str, bytes] = {}
    with manifest.open() as fh:
        rows = list(csv.DictReader(fh))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "patient_id", "age_years", "sex"])
    for row in rows:
        writer.writerow([row["file"], row["patient_id"], row["age_years"], row["sex"]])
        members[row["file"]] = (source / row["file"]).read_bytes()
    members["manifest.csv"] = out.getvalue().encode()
    members.update(extra or {})
    if path.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(path, "w:gz") as tar:
            for name, data in members.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    else:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
    return path


def make_tiny_bundle(directory: Path, input_size: int = 64) -> Path:
    """A compact fusion model with random weights: fast to load and run in tests."""
    import warnings

    from screening.model import ModelCard, build_fusion_model, save_bundle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = build_fusion_model("compact", input_size)
    card = ModelCard(name="test-tiny", backbone="compact", input_size=input_size, synthetic_demo=True,
                     thresholds={"refer_osteoporosis_probability": 0.3})
    save_bundle(model, card, directory)
    return directory
