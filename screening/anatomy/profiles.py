"""Outer (periosteal) and inner (endosteal) edges of a bone shaft from intensity profiles.

A profile across a metacarpal shaft rises at the outer edge, peaks in the cortex, dips
over the medulla and falls again: the projection of a hollow cylinder. Outer edges
are the extrema of the profile's derivative, inner edges the two cortical peaks, each
located to a fraction of a sample by a parabola through the extremum and its two
neighbours, all on the logarithm of the profile so that a gamma change moves none of
them. Blur moves the outer edge inwards, so D is under-estimated; it moves the
cortical peaks outwards under a little blur and towards each other under more (the
profile smoothing, a fixed share of the shaft width, is part of it). On an analytic
profile linear in path length the index reads about 6-9 % high, on the phantoms about
5 % low: a bias to calibrate against DXA, not to fit here. The edges of
the band's mean
profile are the measurement, the agreement of two interleaved halves of the band its
quality.

A least-squares fit of a blurred hollow-cylinder projection was tried (it removes the
blur bias on phantoms) and dropped: on real profiles its inner radius trades off
against the medulla's density, and mirrored copies of one image gave indices 5-30 %
apart, against under 1 % for these edges. A correction of only the bias that this
module's own smoothing causes (a smoothed hollow-cylinder projection measured by the
same edge functions, fixed-point iteration) was tried as well: it lowered the phantom
index error but made rescaled copies of real hands disagree more (the medullary density
it needs is read from the dip, which rescaling changes), so it was not kept either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]

#: Profile smoothing, as a share of the expected shaft width. Tied to the shaft, not to the
#: pixel, so that the same bone imaged at another scale is smoothed alike and the blur bias
#: of the edges (see the module docstring) stays the same: 0.08 against 0.04 cut the per-bone
#: CV of the index under the precision perturbations by about a third on RSNA hands
#: (3.3 % -> 2.2 %); 0.12 fills the medulla of thin-walled shafts.
SMOOTH_FRACTION = 0.08
#: Lighter smoothing on which the medulla's visibility (its dip below the cortices) is judged.
VISIBILITY_SMOOTH_FRACTION = 0.04
#: Grey values are floored here before their logarithm is taken (one 8-bit step).
LOG_FLOOR = 1.0 / 255


@dataclass(frozen=True)
class Edges:
    """Edge positions along one profile, in pixels from the profile centre (left < right)."""

    outer_left: float
    inner_left: float
    inner_right: float
    outer_right: float

    @property
    def outer(self) -> float:
        return self.outer_right - self.outer_left

    @property
    def inner(self) -> float:
        return self.inner_right - self.inner_left


@dataclass(frozen=True)
class BandResult:
    """Median edges over a band of profiles and how consistent they were."""

    edges: Edges | None
    valid_share: float  # share of profiles in which all four edges were found
    spread: float  # half the relative difference of the index between two interleaved halves
    centre_offset: float  # median shift of the shaft centre from the given axis, in pixels
    slope: float = 0.0  # shift of the shaft centre per pixel along the axis: the axis's tilt


def _subpixel(values: np.ndarray, index: int) -> float:
    """Vertex of the parabola through values[index-1:index+2]."""
    if index <= 0 or index >= values.size - 1:
        return float(index)
    a, b, c = values[index - 1], values[index], values[index + 1]
    denom = a - 2 * b + c
    return float(index) if denom == 0 else float(index + 0.5 * (a - c) / denom)


def _gaussian_smooth(values: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.3:
        return values
    radius = max(int(3 * sigma), 1)
    x = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (x / sigma) ** 2)
    kernel /= kernel.sum()
    return np.convolve(np.pad(values, radius, mode="edge"), kernel, mode="valid")


def _smoothing(step: float, expected_width: float, fraction: float = SMOOTH_FRACTION) -> float:
    """Gaussian sigma, in samples: ``fraction`` of the shaft width, at least half a pixel."""
    return max(0.5 / step, fraction * expected_width / step)


def profile_edges(profile: np.ndarray, step: float, expected_width: float) -> Edges | None:
    """The four edges of one shaft profile sampled every ``step`` pixels, centred on the axis.

    None when the profile does not look like a hollow shaft: no clear outer edges, a
    width far from ``expected_width``, or no medulla darker than both cortices.
    """
    n = profile.size
    centre = (n - 1) / 2.0
    # Edges are found on the logarithm of the profile: a power-law grey-scale change
    # (gamma) multiplies the log profile by a constant, which moves neither the
    # extrema of its derivative (outer edges) nor its peaks (inner edges), even after
    # the smoothing. On the linear profile the outer edges moved with gamma.
    smooth = _gaussian_smooth(np.log(np.clip(profile.astype(np.float64), LOG_FLOOR, None)),
                              _smoothing(step, expected_width))
    grad = np.gradient(smooth)
    half = int(centre)
    left_outer = int(np.argmax(grad[: half + 1]))
    right_outer = half + int(np.argmin(grad[half:]))
    lo = _subpixel(grad, left_outer)
    ro = _subpixel(grad, right_outer)
    width = (ro - lo) * step
    if not 0.45 * expected_width <= width <= 1.8 * expected_width:
        return None
    outer_strength = min(grad[left_outer], -grad[right_outer])
    if outer_strength <= 0:
        return None
    mid = round((lo + ro) / 2)
    margin = max(int(0.06 * (ro - lo)), 1)
    left_zone = grad[left_outer + margin : mid + 1]
    right_zone = grad[mid : right_outer - margin + 1]
    if left_zone.size < 2 or right_zone.size < 2:
        return None
    # Endosteal edge: the cortical peak. Through a hollow cylinder the projected path
    # length is greatest where the ray grazes the medulla, so the peak of each rim sits
    # on the inner surface, and a peak is not moved by any monotonic grey-scale change.
    left_inner = left_outer + margin + int(np.argmax(smooth[left_outer + margin : mid + 1]))
    right_inner = mid + int(np.argmax(smooth[mid : right_outer - margin + 1]))
    between = smooth[left_inner : right_inner + 1]
    if between.size < 3:
        return None
    # Whether a medulla is seen at all is judged on a lighter smoothing (the one the
    # visibility threshold was set with): the heavier one, chosen for steady edges, fills
    # a narrow medulla partly, which is a property of the filter, not of the bone.
    light = _gaussian_smooth(profile.astype(np.float64), _smoothing(step, expected_width, VISIBILITY_SMOOTH_FRACTION))
    dip = min(light[left_inner], light[right_inner]) - float(light[left_inner : right_inner + 1].min())
    rise = min(light[left_inner] - light[: left_outer + 1].min(), light[right_inner] - light[right_outer:].min())
    if rise <= 0 or dip < 0.04 * rise:
        return None  # no medulla visible: cortex and medulla cannot be told apart
    li = _subpixel(smooth, left_inner)
    ri = _subpixel(smooth, right_inner)
    if not lo < li < ri < ro:
        return None
    return Edges((lo - centre) * step, (li - centre) * step, (ri - centre) * step, (ro - centre) * step)


def sample_band(
    pixels: np.ndarray,
    centre: Point,
    direction: Point,
    half_length: float,
    half_range: float,
    count: int,
    step: float,
    lanes: int = 3,
) -> np.ndarray:
    """``count`` profiles across the shaft, spread over +-``half_length`` along ``direction``.

    Each profile runs perpendicular to the axis over +-``half_range`` pixels and is the
    mean of ``lanes`` parallel lines one pixel apart along the axis (less noise, same edges).
    """
    ux, uy = direction
    nx, ny = -uy, ux
    offsets = np.linspace(-half_length, half_length, count)
    across = np.arange(-half_range, half_range + step / 2, step)
    lane_offsets = np.arange(lanes, dtype=float) - (lanes - 1) / 2
    along = offsets[:, None, None] + lane_offsets[None, :, None]
    xs = centre[0] + along * ux + across[None, None, :] * nx
    ys = centre[1] + along * uy + across[None, None, :] * ny
    sampled = cv2.remap(
        pixels.astype(np.float32),
        xs.reshape(-1, across.size).astype(np.float32),  # one map row per line: remap's sides stay < 32767
        ys.reshape(-1, across.size).astype(np.float32),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).reshape(count, lanes, across.size)
    return sampled.mean(axis=1)


def measure_band(profiles: np.ndarray, step: float, expected_width: float, spacing: float = 1.0) -> BandResult:
    """Edges of the band's mean profile, and how well its two halves agree.

    Each profile's own edges give its shaft centre; the profiles are shifted onto a
    common centre and averaged, which cuts the noise that trabecular texture and
    quantisation put on any single profile (a 1-pixel jump of one endosteal edge is
    10-20 % of the index on a 20-pixel shaft). The relative difference between the
    indices of two interleaved halves of the band, halved, is the spread. ``spacing`` is
    the distance between neighbouring profiles along the axis, for the tilt.
    """
    found = [(i, e) for i, e in enumerate(profile_edges(p, step, expected_width) for p in profiles) if e is not None]
    share = len(found) / max(len(profiles), 1)
    if len(found) < 3:
        return BandResult(None, share, math.inf, 0.0)
    centres = np.array([(e.outer_left + e.outer_right) / 2 for _, e in found])
    offset = float(np.median(centres))
    positions = (np.arange(profiles.shape[1]) - (profiles.shape[1] - 1) / 2) * step
    aligned = np.array([np.interp(positions + c - offset, positions, profiles[i])
                        for (i, _), c in zip(found, centres, strict=True)])
    # Shifted back onto the median centre, so edges stay relative to the given axis.
    mean_profile = _shift(aligned.mean(axis=0), positions, offset)
    edges = profile_edges(mean_profile, step, expected_width)
    # Interleaved halves span the same stretch of bone, so a real taper of the cortex
    # along the band does not count as disagreement; only noise does.
    halves = [profile_edges(_shift(part.mean(axis=0), positions, offset), step, expected_width)
              for part in (aligned[0::2], aligned[1::2]) if len(part)]
    along = np.array([i for i, _ in found], dtype=float) * spacing
    slope = float(np.polyfit(along, centres, 1)[0]) if np.ptp(along) > 0 else 0.0
    if edges is None or len(halves) < 2 or any(h is None for h in halves):
        return BandResult(edges, share, math.inf, offset, slope)
    indices = [(h.outer - h.inner) / h.outer for h in halves if h is not None]
    spread = abs(indices[0] - indices[1]) / max(sum(indices), 1e-6)
    return BandResult(edges, share, float(spread), offset, slope)


def _shift(profile: np.ndarray, positions: np.ndarray, offset: float) -> np.ndarray:
    """The centred mean profile moved so its centre sits at ``offset`` again."""
    return np.interp(positions - offset, positions, profile)
