"""A hand measurement as plain JSON: what ``osteo measure`` prints and what ingest stores on an image.

One serialiser, so the command line, the database column ``images.measurement``, the API
and the reports read the same keys and the same rounding. Coordinates can be moved by an
``origin`` (the hand crop's top-left corner in the file), so lines measured on a crop are
kept in the uploaded file's own pixel frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from screening.anatomy.radiogrammetry import BoneMeasurement, HandMeasurement

Point = tuple[float, float]


def _num(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(float(value), digits)


def _points(points: Iterable[Point] | None, origin: Point) -> list[list[float]] | None:
    if points is None:
        return None
    return [[round(x + origin[0], 2), round(y + origin[1], 2)] for x, y in points]


def bone_record(bone: BoneMeasurement, origin: Point = (0.0, 0.0)) -> dict[str, Any]:
    """One metacarpal: values in ``unit`` ("mm" or "px"), ``line`` and ``axis`` as [[x, y], [x, y]]."""
    return {
        "bone": bone.bone,
        "measured": bone.measured,
        "reason": bone.reason,
        "quality": bone.quality,
        "outer_width": _num(bone.outer_width),
        "inner_width": _num(bone.inner_width),
        "cortical_thickness": _num(bone.cortical_thickness),
        "cortical_index": _num(bone.cortical_index, 4),
        "length": _num(bone.length),
        "unit": bone.unit,
        "line": _points(bone.line, origin),
        "axis": _points(bone.axis, origin),
    }


def hand_record(m: HandMeasurement, origin: Point = (0.0, 0.0)) -> dict[str, Any]:
    """The hand: combined values, the literature index (``index_value`` null without pixel spacing), bones."""
    return {
        "measured": m.measured,
        "reason": m.reason,
        "cortical_index": _num(m.cortical_index, 4),
        "cortical_thickness_mm": _num(m.cortical_thickness_mm),
        "index_name": m.index_name,
        "index_value": _num(m.index_value, 4),
        "method_version": m.method_version,
        "bones": [bone_record(b, origin) for b in m.bones],
    }
