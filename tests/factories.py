"""Builders for test inputs: synthetic archives of phantom X-rays and a tiny model bundle."""

from __future__ import annotations

import csv
import io
import tarfile
import zipfile
from pathlib import Path

from training.phantoms import SCREENING_MIN_AGE, write_dataset


def write_phantom_archive(path: Path, count: int, seed: int = 0, size: int = 320,
                          extra: dict[str, bytes] | None = None,
                          overrides: dict[int, dict[str, str]] | None = None) -> Path:
    """A zip (or .tar.gz by suffix) of ``count`` phantom PNGs plus manifest.csv and ``extra`` members.

    The phantom patients are all in the default screening population (50 and over).
    ``overrides`` maps an image's index to manifest values that replace or add columns
    (``{0: {"age_years": "30", "pixel_spacing_mm": "0.1"}}``); the phantoms' own
    ground truth stays in ``{path.stem}-src/manifest.csv``.
    """
    source = path.parent / f"{path.stem}-src"
    manifest = write_dataset(source, count, seed=seed, size=size, min_age_years=SCREENING_MIN_AGE)
    members: dict[str, bytes] = {}
    with manifest.open() as fh:
        rows = list(csv.DictReader(fh))
    overrides = overrides or {}
    columns = ["file", "patient_id", "age_years", "sex"]
    columns += sorted({name for values in overrides.values() for name in values} - set(columns))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for index, row in enumerate(rows):
        values = {**row, **{name: "" for name in columns if name not in row}, **overrides.get(index, {})}
        writer.writerow([values[name] for name in columns])
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
