"""Metacarpal radiogrammetry: cortical thickness of MC2-MC4 at mid-shaft, and its indices.

What is measured, per bone (2nd, 3rd, 4th metacarpal of a PA hand radiograph):

* the bone's axis and length L (base to head, between the joint gaps);
* over a mid-shaft *band* (40 % of the bone's length centred on the diaphysis, 17 profiles each
  averaged over a ninth of the band, aligned and averaged again; not one line)
  the outer (periosteal) width D and the medullary (endosteal) width d, from sub-pixel
  edge positions on the band's mean profile;
* the cortical thickness T = (D - d) / 2 and the Barnett-Nordin cortical index
  (D - d) / D.

Combined over the measured bones: the cortical index sum(D - d) / sum(D) (a width-
weighted mean; scale-free, so it needs no pixel spacing), and, only when the pixel
spacing is known, the mean T in millimetres and the Bone Health Index
BHI = pi * T * (1 - T/W) / (L * W) ** 0.33 (T, W = D and L in mm, means over the
measured bones). BHI is chosen as the literature index because its formula is
published in full, it is built from exactly the three quantities measured here, and it
was designed to compensate for bone size; DXR-BMD additionally needs a porosity
estimate and calibration constants that are not published in reproducible form.
BHI is in mm**0.34, so it is never computed from a guessed scale.

A bone that cannot be measured reliably is refused, with the reason and a quality
score: a refusal, never a guess. The hand counts as measured when at least two of
the three bones are.

Sources (see docs/radiogrammetry.md for what each is used for):

* Barnett E, Nordin BEC. The radiological diagnosis of osteoporosis: a new approach.
  Clin Radiol 1960;11:166-174. (cortical index (D - d) / D of the 2nd metacarpal)
* Bloom RA, Pogrund H, Libson E. Skeletal Radiol 1983;10(1):5-9. doi:10.1007/BF00355382
  (the three central metacarpals measured together vary less than one)
* Thodberg HH, van Rijn RR, Tanaka T, Martin DD, Kreiborg S. A paediatric bone index
  derived by automated radiogrammetry. Osteoporos Int 2010;21(8):1391-1400.
  PMC2895878 (A = pi T (1 - T/W); index A / (W L**0.33 W**0.33); precision 1.42 %)
* BoneXpert documentation, "Bone Health Index", bonexpert.com/documentation/bone-health-index
  (BHI = pi T (1 - T/W) / (L W)**0.33; CV 1.4 %)
* Rosholm A, Hyldstrup L, Backsgaard L, Grunkin M, Thodberg HH. Estimation of bone
  mineral density by digital X-ray radiogrammetry: theoretical background and clinical
  testing. Osteoporos Int 2001;12(11):961-969.
* Black DM, Palermo L, Sorensen T, et al. A normative reference database study for
  Pronosco X-posure System. J Clin Densitom 2001;4(1):5-12. (DXR vs wrist DXA r = 0.90, n = 832)
* Schreiber JJ, Kamal RN, Yao J. Simple assessment of global bone density and
  osteoporosis screening using standard radiographs of the hand. J Hand Surg Am
  2017;42(4):244-249. (2nd metacarpal cortical percentage < 50 %: sensitivity 100 %,
  specificity 91 % for osteoporosis vs normal, n = 200)
* Patel B, Aqil A, Riaz O, Jeffers R, Dickson D. The 2nd metacarpal cortical index as a
  simple screening tool for osteopenia. J Bone Metab 2020;27(4):261-266.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.signal import find_peaks

from .metacarpals import Ray, locate_metacarpals
from .profiles import BandResult, measure_band, sample_band

logger = logging.getLogger(__name__)

METHOD_VERSION = "radiogrammetry-1.3"
MEASURED_BONES = ("MC2", "MC3", "MC4")
INDEX_NAME = "BHI"

#: Fewer pixels across a shaft than this and the cortex is a pixel or two: not measurable.
MIN_SHAFT_WIDTH_PX = 10.0
#: Band profiles that must show all four edges.
MIN_VALID_SHARE = 0.6
#: Largest disagreement of the index between the band's halves (half the relative difference).
MAX_SPREAD = 0.05
BAND_PROFILES = 17
#: Central share of the bone length covered by the band (30-70 % of the bone): the
#: cortex thins from the waist towards the metaphyses, so a longer band averages over
#: where exactly mid-shaft is taken; 0.4 against 0.2 cut the per-bone CV of the index
#: under the precision perturbations by about a quarter on RSNA hands (3.3 % -> 2.5 %).
BAND_FRACTION = 0.4
MIN_SIDE_PX = 128
#: Largest drift of the shaft's centre per pixel along the band (tan of ~15 degrees).
MAX_TILT = 0.27

Point = tuple[float, float]
Segment = tuple[Point, Point]


@dataclass(frozen=True)
class BoneMeasurement:
    """One metacarpal: the measurement, or the refusal with its reason.

    Widths and length are in ``unit`` ("mm" when the pixel spacing is known, else "px");
    geometry is in the decoded image's pixel frame. ``band`` is the mid-shaft band as
    four corners; ``line`` runs between the two outer edges at the band's centre.
    """

    bone: str
    measured: bool
    reason: str
    quality: float
    outer_width: float | None
    inner_width: float | None
    cortical_thickness: float | None
    length: float | None
    unit: str
    line: Segment | None
    axis: Segment | None
    band: tuple[Point, Point, Point, Point] | None
    inner_line: Segment | None = None  # between the two endosteal edges, for drawing

    @property
    def cortical_index(self) -> float | None:
        """Barnett-Nordin (D - d) / D."""
        if self.outer_width is None or self.inner_width is None:
            return None
        return (self.outer_width - self.inner_width) / self.outer_width


@dataclass(frozen=True)
class HandMeasurement:
    """MC2-MC4 of one hand radiograph and the combined indices."""

    measured: bool
    reason: str
    bones: tuple[BoneMeasurement, ...]
    cortical_index: float | None
    index_name: str
    index_value: float | None
    cortical_thickness_mm: float | None
    method_version: str = METHOD_VERSION


def _refused(bone: str, reason: str, unit: str, axis: Segment | None = None, quality: float = 0.0) -> BoneMeasurement:
    return BoneMeasurement(bone, False, reason, quality, None, None, None, None, unit, None, axis, None)


def _refused_hand(reason: str, unit: str) -> HandMeasurement:
    bones = tuple(_refused(name, reason, unit) for name in MEASURED_BONES)
    return HandMeasurement(False, reason, bones, None, INDEX_NAME, None, None)


def measure_hand(
    pixels: np.ndarray,
    pixel_spacing_mm: float | None = None,
    hand_box: tuple[int, int, int, int] | None = None,
) -> HandMeasurement:
    """Measure MC2-MC4 on a decoded radiograph (2-D float in [0, 1], bone bright).

    ``pixel_spacing_mm``: the detector pixel spacing from the file (DICOM PixelSpacing /
    ImagerPixelSpacing) or the manifest; without it every value is in pixels and only
    scale-free indices are given. ``hand_box`` (x0, y0, x1, y1), when a hand localiser
    has found one, restricts the search to it; coordinates stay in the full image.
    Never raises on image content: what cannot be measured is refused with a reason.
    """
    unit = "mm" if pixel_spacing_mm else "px"
    if pixel_spacing_mm is not None and not (0.01 <= pixel_spacing_mm <= 2.0):
        raise ValueError(f"pixel spacing {pixel_spacing_mm} mm is not a radiograph's")
    image = np.asarray(pixels, dtype=np.float32)
    if image.ndim != 2:
        return _refused_hand("The image is not a single gray-scale picture.", unit)
    x_off = y_off = 0
    if hand_box is not None:
        x0, y0, x1, y1 = (int(v) for v in hand_box)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, image.shape[1]), min(y1, image.shape[0])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return _refused_hand("The hand box is empty.", unit)
        image, x_off, y_off = image[y0:y1, x0:x1], x0, y0
    if min(image.shape) < MIN_SIDE_PX:
        return _refused_hand(f"The image is too small ({image.shape[1]} x {image.shape[0]} pixels) "
                             "to measure cortical thickness.", unit)
    if float(image.std()) < 0.02:
        return _refused_hand("The image is blank or nearly uniform.", unit)

    layout = locate_metacarpals(image)
    by_name = {ray.bone: ray for ray in layout.rays}
    bones = []
    for name in MEASURED_BONES:
        ray = by_name.get(name)
        if ray is None:
            bones.append(_refused(name, layout.reason or f"{name} could not be found.", unit))
        else:
            bones.append(_measure_bone(image, ray, pixel_spacing_mm))
    bones = _check_consistency(bones)
    if x_off or y_off:
        bones = [_shift(b, x_off, y_off) for b in bones]
    return combine_bones(tuple(bones), pixel_spacing_mm, layout.reason)


def measure_shaft(
    pixels: np.ndarray,
    bone: str,
    base: Point,
    head: Point,
    width_hint_px: float,
    pixel_spacing_mm: float | None = None,
) -> BoneMeasurement:
    """Measure one metacarpal whose axis is already known (base and head in pixels).

    The second half of :func:`measure_hand`, for callers that know where the bone is:
    a reader correcting a wrong axis, or an accuracy check against generator truth.
    ``width_hint_px`` is a rough outer width that sets the profile range.
    """
    base_xy, head_xy = (float(base[0]), float(base[1])), (float(head[0]), float(head[1]))
    mid = ((base_xy[0] + head_xy[0]) / 2, (base_xy[1] + head_xy[1]) / 2)
    ray = Ray(bone, base_xy, head_xy, float(width_hint_px), mid)
    return _measure_bone(np.asarray(pixels, dtype=np.float32), ray, pixel_spacing_mm)


def _measure_bone(image: np.ndarray, ray: Ray, spacing: float | None) -> BoneMeasurement:
    unit = "mm" if spacing else "px"
    axis: Segment = (ray.base, ray.head)
    length = ray.length
    if length < 4 * MIN_SHAFT_WIDTH_PX:
        return _refused(ray.bone, "The bone is too small in the image to measure.", unit, axis)
    ux, uy = (ray.head[0] - ray.base[0]) / length, (ray.head[1] - ray.base[1]) / length
    # The band goes on the middle of the metacarpal found between its joint gaps; when the
    # gaps are not seen, on the shaft's waist found by the localiser (no length then).
    centre = ray.mid
    segment, implausible = _metacarpal_segment(image, ray, (ux, uy))
    if segment is None and not ray.ends_seen:
        return _refused(ray.bone, implausible or "Mid-shaft cannot be located: neither the joint gaps nor the "
                                  "ends of the bone are seen clearly.", unit, axis)
    if segment is not None:
        t0, t1 = segment
        centre = (ray.mid[0] + (t0 + t1) / 2 * ux, ray.mid[1] + (t0 + t1) / 2 * uy)
        length = t1 - t0
    half_length = BAND_FRACTION * length / 2
    expected = max(ray.width_px, MIN_SHAFT_WIDTH_PX)
    step = max(expected / 80.0, 0.2)
    lanes = max(int(2 * half_length / BAND_PROFILES), 1)
    profile_gap = 2 * half_length / max(BAND_PROFILES - 1, 1)
    first = measure_band(sample_band(image, centre, (ux, uy), half_length, 1.0 * expected, BAND_PROFILES, step,
                                     lanes), step, expected, profile_gap)
    if first.edges is None:
        return _refused(ray.bone, _band_reason(first), unit, axis, _quality(first))
    # Re-centre on the shaft found, turn the axis by the drift of its centre along the
    # band, and sample again with a range fitted to its width.
    nx, ny = -uy, ux
    centre = (centre[0] + first.centre_offset * nx, centre[1] + first.centre_offset * ny)
    if abs(first.slope) > MAX_TILT:
        # The shaft's centre drifts across the band by more than ~15 degrees from the
        # traced axis: the axis is not on this shaft, or the band crosses onto another.
        return _refused(ray.bone, "The traced axis does not follow the shaft at mid-shaft.", unit, axis,
                        _quality(first))
    tilt = first.slope
    ux, uy = ux + tilt * nx, uy + tilt * ny
    norm = math.hypot(ux, uy)
    ux, uy = ux / norm, uy / norm
    nx, ny = -uy, ux
    width = first.edges.outer
    step = max(width / 80.0, 0.2)
    band = measure_band(sample_band(image, centre, (ux, uy), half_length, 0.85 * width, BAND_PROFILES, step,
                                    lanes), step, width, profile_gap)
    quality = _quality(band)
    if band.edges is None or band.valid_share < MIN_VALID_SHARE or band.spread > MAX_SPREAD:
        return _refused(ray.bone, _band_reason(band), unit, axis, quality)
    edges = band.edges
    if edges.outer < MIN_SHAFT_WIDTH_PX:
        return _refused(ray.bone, f"The shaft is only {edges.outer:.0f} pixels wide; the cortex cannot be "
                                  "resolved.", unit, axis, quality)
    index = (edges.outer - edges.inner) / edges.outer
    if not 0.08 <= index <= 0.95:
        return _refused(ray.bone, "The medullary canal is not visible as a canal.", unit, axis, quality)

    def at(offset: float) -> Point:
        return (centre[0] + offset * nx, centre[1] + offset * ny)

    corners = tuple(
        (centre[0] + a * half_length * ux + b * 0.6 * width * nx,
         centre[1] + a * half_length * uy + b * 0.6 * width * ny)
        for a, b in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    )
    scale = spacing or 1.0
    reach = length / 2 if segment is not None else 0.3 * length
    # Without both joint gaps only the shaft around the band is drawn: an axis drawn past
    # unseen joints would mislead, and no length is reported.
    axis = ((centre[0] - reach * ux, centre[1] - reach * uy), (centre[0] + reach * ux, centre[1] + reach * uy))
    return BoneMeasurement(
        bone=ray.bone,
        measured=True,
        reason="",
        quality=quality,
        outer_width=edges.outer * scale,
        inner_width=edges.inner * scale,
        cortical_thickness=(edges.outer - edges.inner) / 2 * scale,
        length=length * scale if segment is not None else None,
        unit=unit,
        line=(at(edges.outer_left), at(edges.outer_right)),
        axis=axis,
        band=corners,  # type: ignore[arg-type]
        inner_line=(at(edges.inner_left), at(edges.inner_right)),
    )


def _metacarpal_segment(image: np.ndarray, ray: Ray, direction: Point) -> tuple[tuple[float, float] | None, str]:
    """Where the metacarpal starts and ends on its ray, in pixels from ``ray.mid`` along ``direction``.

    Along a finger's ray the bones follow each other, separated by joint gaps that are
    dark lines across the bright bone. The ray is cut at those gaps (dips of at least a
    fifth of the bone's contrast over the soft tissue beside it) into pieces. Returns
    (segment, reason): the segment is None when the gaps do not show the bone, and the
    reason is non-empty when the pieces show that the band would not be on a metacarpal
    or its length would be wrong (then the bone is refused).

    The metacarpal is the longest piece whose middle lies proximal of the finger webs and
    on the traced ray (not beyond its base, where the radius lies): on the 2nd-4th rays the
    metacarpal is the longest bone of the finger. Then (1.3) the order of the bones along
    the ray is checked (:func:`_place_on_metacarpal`); where it does not confirm the piece,
    no segment is given and the reason says why (the band then goes on the localiser's
    waist, with no length, or the bone is refused when that waist is not trusted).
    """
    ux, uy = direction
    width = max(ray.width_px, MIN_SHAFT_WIDTH_PX)
    step = 0.5
    reach = 2.0 * ray.length
    # sample_band's profile runs across its "direction": given the axis turned by -90
    # degrees it runs along the axis, base side first, averaged over the shaft's middle.
    strip = sample_band(image, ray.mid, (uy, -ux), 0.0, reach, 1, step, lanes=max(int(0.4 * width), 1))[0]
    strip = _smooth(strip, max(0.05 * width / step, 1.0))
    positions = (np.arange(strip.size) - (strip.size - 1) / 2) * step
    beside = sample_band(image, ray.mid, direction, 0.0, 1.0 * width, 1, step, lanes=3)[0]
    soft = float(min(beside[0], beside[-1]))
    contrast = float(np.median(strip[np.abs(positions) < 0.1 * ray.length])) - soft
    if contrast <= 0:
        return None, ""
    dips, _ = find_peaks(-strip, prominence=0.2 * contrast)
    cuts = [0, *dips.tolist(), strip.size - 1]
    t_web = math.inf
    if ray.web is not None:
        t_web = (ray.web[0] - ray.mid[0]) * ux + (ray.web[1] - ray.mid[1]) * uy
    t_base = (ray.base[0] - ray.mid[0]) * ux + (ray.base[1] - ray.mid[1]) * uy
    t_head = (ray.head[0] - ray.mid[0]) * ux + (ray.head[1] - ray.mid[1]) * uy
    # Pieces between neighbouring gaps, proximal first: (t0, t1, bone); None for a piece cut
    # by the sampling range, whose length is unknown.
    pieces: list[tuple[float, float, bool] | None] = []
    for a, b in itertools.pairwise(cuts):
        if a == 0 or b == strip.size - 1:
            pieces.append(None)
            continue
        # Mostly soft tissue: a gap between bones, not a bone.
        pieces.append((float(positions[a]), float(positions[b]), float(np.median(strip[a:b])) - soft >= 0.5 * contrast))
    best: int | None = None
    for i, piece in enumerate(pieces):
        if piece is None or not piece[2]:
            continue
        middle = (piece[0] + piece[1]) / 2
        if middle >= t_web or not t_base <= middle <= t_head:
            continue  # distal of the webs, or off the traced ray
        if best is None or piece[1] - piece[0] > _span(pieces[best]):
            best = i
    if best is None or _span(pieces[best]) < 3 * width:
        # No metacarpal between gaps: the band goes on the localiser's waist, so the bones
        # around the waist must still say that it is a metacarpal.
        own = next((i for i, p in enumerate(pieces) if p is not None and p[2] and p[0] <= 0.0 <= p[1]), None)
        if own is None:
            return None, ""
        index, reason = _place_on_metacarpal(pieces, own, width)
        if reason or index == own:
            return None, reason
        best = index
    else:
        best, reason = _place_on_metacarpal(pieces, best, width)
        if reason:
            return None, reason
    chosen = pieces[best]
    assert chosen is not None
    return (chosen[0], chosen[1]), ""


#: On the 2nd-4th rays the proximal phalanx is 0.55-0.7 of its metacarpal's length (real
#: hands and phantoms alike). A bone whose proximal neighbour is longer by this factor, up
#: to the upper one, is a phalanx whose metacarpal lies just proximal of it.
PHALANX_TO_METACARPAL = (1.3, 2.4)
#: The distal neighbour (the proximal phalanx) as a share of the metacarpal's length: 0.55-0.7
#: on real hands and phantoms. Only a piece whose distal neighbour is in this range is
#: taken as the metacarpal alone; a shorter neighbour is a middle phalanx (the piece holds
#: its proximal phalanx as well: a joint gap not seen), a longer one says the piece is short.
DISTAL_NEIGHBOUR = (0.55, 0.85)


def _span(piece: tuple[float, float, bool] | None) -> float:
    return -1.0 if piece is None else piece[1] - piece[0]


def _place_on_metacarpal(pieces: list[tuple[float, float, bool] | None], index: int,
                         width: float) -> tuple[int, str]:
    """(the piece that is the metacarpal, refusal reason) given the piece ``index`` found first.

    The bones along a finger's ray say which one is the metacarpal (1.3): its distal
    neighbour (the proximal phalanx) is shorter but not much shorter, and its proximal
    neighbours are carpal bones, short ones. When the proximal neighbour of the piece
    found is 1.3-2.4 times longer, the piece is a proximal phalanx (on phantoms, whose
    webs lie at mid-phalanx, the palm profile can cross the proximal phalanges) and the
    neighbour is taken instead. The piece is trusted as the metacarpal alone only on positive
    evidence: a distal neighbour across one joint gap of 0.55-0.85 of its length. A shorter
    one is a middle phalanx, so the piece also holds the proximal phalanx (a joint gap not
    seen; on phantoms the epiphyses overlap and gaps are faint) and its length and middle
    are wrong; otherwise the reason is returned.
    """
    def neighbour(i: int, side: int) -> tuple[float, float, bool] | None:
        j = i + side
        if 0 <= j < len(pieces) and (p := pieces[j]) is not None and p[2]:
            return p
        return None

    own = pieces[index]
    assert own is not None
    proximal = neighbour(index, -1)
    if proximal is not None and PHALANX_TO_METACARPAL[0] * _span(own) <= _span(proximal) \
            <= PHALANX_TO_METACARPAL[1] * _span(own) and _span(proximal) >= 3 * width:
        index, own = index - 1, proximal
    distal = neighbour(index, 1)
    if distal is None or not DISTAL_NEIGHBOUR[0] * _span(own) <= _span(distal) <= DISTAL_NEIGHBOUR[1] * _span(own):
        return index, ("The joint gaps along this ray do not show the metacarpal alone (the bone beyond it "
                       "is not a proximal phalanx of its length), so its ends and length are not reliable.")
    return index, ""


def _smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    radius = max(int(3 * sigma), 1)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    return np.convolve(np.pad(values, radius, mode="edge"), kernel / kernel.sum(), mode="valid")


def _quality(band: BandResult) -> float:
    """0-1: share of band profiles with all edges, discounted by the index's spread."""
    if not math.isfinite(band.spread):
        return 0.0
    return round(float(band.valid_share * max(0.0, 1.0 - band.spread / (2 * MAX_SPREAD))), 3)


def _band_reason(band: BandResult) -> str:
    if band.edges is None or band.valid_share < MIN_VALID_SHARE:
        return ("The shaft's cortex and medullary canal are not clearly visible at mid-shaft "
                "(overlap, cast, implant, fracture, rotation or low contrast).")
    return "The cortical thickness varies too much along the mid-shaft band to give one reliable value."


#: Range of a bone's length around the median of the hand's measured metacarpal lengths:
#: MC2-MC4 differ by about a tenth in length; a length outside this range is a piece holding
#: a phalanx or carpal bone as well, or a phalanx alone (1.3).
LENGTH_AGREEMENT = (0.8, 1.25)


def _check_consistency(bones: list[BoneMeasurement]) -> list[BoneMeasurement]:
    """Refuse a bone whose width or length disagrees with its neighbours: likely on the wrong structure."""
    widths = [b.outer_width for b in bones if b.measured and b.outer_width]
    if len(widths) < 2:
        return bones
    median = float(np.median(widths))
    checked = []
    for b in bones:
        if b.measured and b.outer_width and not 0.65 * median <= b.outer_width <= 1.5 * median:
            checked.append(_refused(b.bone, "The measured width disagrees with the neighbouring metacarpals; "
                                            "the line may not be on this bone.", b.unit, b.axis, b.quality))
        else:
            checked.append(b)
    lengths = [b.length for b in checked if b.measured and b.length]
    if len(lengths) < 2:
        return checked
    median = float(np.median(lengths))
    low, high = LENGTH_AGREEMENT
    return [_refused(b.bone, "The measured length disagrees with the neighbouring metacarpals; the joint gaps "
                             "found may not be this bone's.", b.unit, b.axis, b.quality)
            if b.measured and b.length and not low * median <= b.length <= high * median else b
            for b in checked]


def _shift(b: BoneMeasurement, dx: float, dy: float) -> BoneMeasurement:
    def move(points):  # type: ignore[no-untyped-def]
        return None if points is None else tuple((x + dx, y + dy) for x, y in points)

    return BoneMeasurement(b.bone, b.measured, b.reason, b.quality, b.outer_width, b.inner_width,
                           b.cortical_thickness, b.length, b.unit, move(b.line), move(b.axis), move(b.band),
                           move(b.inner_line))


def combine_bones(
    bones: tuple[BoneMeasurement, ...], pixel_spacing_mm: float | None, layout_reason: str
) -> HandMeasurement:
    """The hand's result from its bones: combined index, mean T in mm and BHI (with spacing).

    Bone values are already in mm when ``pixel_spacing_mm`` is given. BHI takes the mean
    T and W of the measured bones and the mean L of those whose length was measured.
    """
    measured = [b for b in bones if b.measured]
    if len(measured) < 2:
        reason = layout_reason or "Fewer than two of the 2nd-4th metacarpals could be measured reliably."
        return HandMeasurement(False, reason, bones, None, INDEX_NAME, None, None)
    outer = sum(b.outer_width for b in measured)  # type: ignore[misc]
    inner = sum(b.inner_width for b in measured)  # type: ignore[misc]
    index = (outer - inner) / outer
    thickness_mm = bhi = None
    if pixel_spacing_mm:
        t = float(np.mean([b.cortical_thickness for b in measured]))
        w = float(np.mean([b.outer_width for b in measured]))
        thickness_mm = t
        lengths = [b.length for b in measured if b.length is not None]
        if lengths:
            bhi = math.pi * t * (1 - t / w) / (float(np.mean(lengths)) * w) ** 0.33
    return HandMeasurement(True, "", bones, index, INDEX_NAME, bhi, thickness_mm)


_COLOURS = {"MC2": (230, 60, 60), "MC3": (60, 200, 60), "MC4": (70, 130, 255)}


def draw_measurement(pixels: np.ndarray, measurement: HandMeasurement) -> np.ndarray:
    """RGB uint8 picture of the radiograph with each bone's axis, band and D/d edges.

    Refused bones whose axis was found are drawn as a thin gray axis, so a reader can see
    what was looked at and not measured.
    """
    gray = np.clip(np.asarray(pixels, dtype=np.float32), 0.0, 1.0)
    rgb = cv2.cvtColor(np.round(gray * 255).astype(np.uint8), cv2.COLOR_GRAY2RGB)
    thick = max(1, round(max(rgb.shape) / 500))

    def pt(p: Point) -> tuple[int, int]:
        return round(p[0]), round(p[1])

    for b in measurement.bones:
        if b.axis is None:
            continue
        if not b.measured:
            cv2.line(rgb, pt(b.axis[0]), pt(b.axis[1]), (150, 150, 150), thick, cv2.LINE_AA)
            continue
        colour = _COLOURS.get(b.bone, (255, 255, 0))
        cv2.line(rgb, pt(b.axis[0]), pt(b.axis[1]), colour, thick, cv2.LINE_AA)
        if b.band is not None:
            cv2.polylines(rgb, [np.array([pt(p) for p in b.band], np.int32)], True, colour, thick, cv2.LINE_AA)
        if b.line is not None:
            cv2.line(rgb, pt(b.line[0]), pt(b.line[1]), (255, 255, 0), thick, cv2.LINE_AA)
            for p in b.line:
                cv2.circle(rgb, pt(p), thick + 1, (255, 255, 0), -1, cv2.LINE_AA)
        if b.inner_line is not None:
            for p in b.inner_line:
                cv2.circle(rgb, pt(p), thick + 1, (255, 0, 255), -1, cv2.LINE_AA)
        label_at = pt(b.axis[0])
        cv2.putText(rgb, b.bone, (label_at[0] - 10 * thick, label_at[1] + 14 * thick), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * thick, colour, thick, cv2.LINE_AA)
    return rgb
