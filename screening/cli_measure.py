"""``osteo measure``: metacarpal radiogrammetry on image files, folders and archives.

Each image is decoded exactly as an upload is (screening.imaging), so the coordinates
printed are in the file's own pixel frame. With ``--json`` there is one JSON object per
line per image; without it one readable line per image.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
import cv2

from screening.anatomy.measurement_record import hand_record
from screening.anatomy.radiogrammetry import (
    HandMeasurement,
    draw_measurement,
    measure_hand,
)
from screening.imaging import DecodeError, decode_image
from screening.imaging.decoded import MAX_PIXEL_SPACING_MM, MIN_PIXEL_SPACING_MM
from screening.input_files import iter_input_files

logger = logging.getLogger(__name__)


def measurement_record(name: str, m: HandMeasurement) -> dict:
    """The JSON object printed for one image."""
    return {"file": name, **hand_record(m)}


def _error_record(name: str, reason: str) -> dict:
    return {"file": name, "measured": False, "reason": reason, "cortical_index": None,
            "cortical_thickness_mm": None, "bones": []}


def _overlay_name(name: str, index: int) -> str:
    stem = Path(name.replace("!", "_")).stem
    return f"{index:04d}-{stem}.png"


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per image.")
@click.option("--pixel-spacing", type=click.FloatRange(min=MIN_PIXEL_SPACING_MM, max=MAX_PIXEL_SPACING_MM),
              default=None,
              help="Detector pixel spacing in mm for PNG/JPEG/WebP/TIFF files (DICOM files carry their own).")
@click.option("--overlay-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each image with its measurement drawn (PNG) into this folder.")
def measure(paths: tuple[Path, ...], as_json: bool, pixel_spacing: float | None, overlay_dir: Path | None) -> None:
    """Measure the 2nd-4th metacarpal cortex on PNG, JPEG, WebP, TIFF or DICOM files, folders or archives.

    Values are in millimetres only when the pixel spacing is known (DICOM tags or
    --pixel-spacing); otherwise in pixels, with the scale-free cortical index.
    """
    if overlay_dir is not None:
        overlay_dir.mkdir(parents=True, exist_ok=True)
    for index, (name, data, error) in enumerate(iter_input_files(paths)):
        if data is None:
            _emit(_error_record(name, error), as_json)
            continue
        try:
            decoded = decode_image(data, name)
        except DecodeError as exc:
            _emit(_error_record(name, exc.reason), as_json)
            continue
        spacing = decoded.metadata.pixel_spacing_mm or pixel_spacing
        result = measure_hand(decoded.pixels, pixel_spacing_mm=spacing)
        if overlay_dir is not None:
            rgb = draw_measurement(decoded.pixels, result)
            cv2.imwrite(str(overlay_dir / _overlay_name(name, index)), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        _emit(measurement_record(name, result), as_json)


def _emit(record: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(record))
        return
    if not record["measured"]:
        click.echo(f"{record['file']}: not measured - {record['reason']}")
        return
    parts = [f"{record['file']}: cortical index {record['cortical_index']:.3f}"]
    if record["cortical_thickness_mm"] is not None:
        parts.append(f"T {record['cortical_thickness_mm']:.2f} mm")
    for bone in record["bones"]:
        if bone["measured"]:
            parts.append(f"{bone['bone']} D {bone['outer_width']:.1f} d {bone['inner_width']:.1f} {bone['unit']}")
        else:
            parts.append(f"{bone['bone']} refused")
    click.echo(", ".join(parts))
