"""Checks shared by the tests that run phantom archives through ingest: stored measurements against truth.

Two kinds of check. (1) Wiring, exactly: the measurement stored on an image equals the one
:func:`screening.measurement.measure_image` gives on the full-resolution hand box of the
same file, with the box's corner as origin and the row's pixel spacing; so ingest measures
every pixel the hospital sent, in the file's own frame, with the right scale. (2) Frame and
scale, against the phantom generator's ground truth (``training.phantoms``): each measured
line lies on its bone's ray (the true axis line, in file pixels), and the outer widths are
the true ones in size. Loosely, because the measurement's own accuracy is not what these
tests are about: on phantoms a band may sit distally, past the metacarpal head on the same
ray (docs/radiogrammetry.md), and widths are a few per cent off; but a measurement made on
the shrunk stored copy would read about 0.8 of the true widths on 1280 px phantoms, and one
in the crop's frame would lie a crop corner away from the ray.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path
from statistics import median

from screening.anatomy.prepare import hand_region
from screening.db import Image
from screening.imaging import inspect_file
from screening.measurement import measure_image
from training.phantoms import SCREENING_MIN_AGE, image_rng, metacarpal_axes, metacarpal_truth, plan_dataset

Point = tuple[float, float]


def phantom_truth(count: int, seed: int, size: int) -> dict[str, dict[str, dict[str, object]]]:
    """Per phantom file (``images/ph000000.png``) and bone: true outer width (px) and axis (base, head)."""
    truth: dict[str, dict[str, dict[str, object]]] = {}
    for spec in plan_dataset(count, seed, min_age_years=SCREENING_MIN_AGE):
        widths = metacarpal_truth(spec.patient, spec.image_number, size, image_rng(seed, spec))
        axes = metacarpal_axes(spec.patient, spec.image_number, size, image_rng(seed, spec))
        truth[spec.file] = {bone: {"outer_px": widths[f"{bone.lower()}_outer_px"], "axis": axes[bone]}
                            for bone in axes}
    return truth


def _along_and_across(p: Point, a: Point, b: Point) -> tuple[float, float]:
    """Where ``p`` lies on the line a -> b: along it (0 at a, 1 at b) and its distance from it (pixels)."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length = math.hypot(dx, dy)
    along = ((px - ax) * dx + (py - ay) * dy) / length**2
    across = abs((px - ax) * dy - (py - ay) * dx) / length
    return along, across


def expected_columns(archive: Path, image: Image, spacing: float | None) -> dict[str, object]:
    """What ingest should have stored for ``image``: the measurement of its file's full-resolution hand box."""
    with zipfile.ZipFile(archive) as zf:
        data = zf.read(image.filename)
    decoded, _ = inspect_file(data, image.filename)
    assert decoded is not None
    _crop, gate = hand_region(decoded.pixels)
    assert gate.hand_box is not None and list(gate.hand_box) == image.hand_box
    x0, y0, x1, y1 = gate.hand_box
    return measure_image(decoded.pixels[y0:y1, x0:x1].copy(), (x0, y0), spacing).columns


def check_against_truth(images: list[Image], truth: dict[str, dict[str, dict[str, object]]], size: int) -> int:
    """Assert every measured bone's line crosses its true axis and widths are full-resolution; return bones seen."""
    ratios: list[float] = []
    for image in images:
        if not image.measured:
            continue
        spacing = image.measurement["pixel_spacing_mm"] or 1.0
        for bone in image.measurement["bones"]:
            if not bone["measured"]:
                continue
            true = truth[image.filename][bone["bone"]]
            (x1, y1), (x2, y2) = bone["line"]
            for x, y in bone["line"]:
                assert 0 <= x < size and 0 <= y < size, (image.filename, bone)
            middle = ((x1 + x2) / 2, (y1 + y2) / 2)
            base, head = true["axis"]  # type: ignore[misc]
            outer_px = float(true["outer_px"])  # type: ignore[arg-type]
            # The line's middle lies on the bone's ray, within its width, between its base and the next phalanx.
            along, across = _along_and_across(middle, base, head)
            assert across < 0.75 * outer_px and -0.25 < along < 2.0, (image.filename, bone, true, along, across)
            ratios.append(bone["outer_width"] / spacing / outer_px)
    if ratios:
        assert 0.85 < median(ratios) < 1.15, ratios
    return len(ratios)


def png_size(data: bytes) -> tuple[int, int]:
    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(data)) as picture:
        assert picture.mode == "RGB"
        return picture.size
