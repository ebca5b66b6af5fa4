"""Metacarpal radiogrammetry: accuracy against phantom truth, refusals, and geometry."""

from __future__ import annotations

import csv
import math

import cv2
import numpy as np
import pytest

from screening.anatomy.metacarpals import Ray, _parallel_rays, locate_metacarpals
from screening.anatomy.profiles import measure_band, profile_edges
from screening.anatomy.radiogrammetry import (
    MEASURED_BONES,
    BoneMeasurement,
    HandMeasurement,
    _measure_bone,
    combine_bones,
    draw_measurement,
    measure_hand,
    measure_shaft,
)
from training.phantoms import (
    TRUTH_COLUMNS,
    image_rng,
    metacarpal_axes,
    metacarpal_truth,
    plan_dataset,
    render_phantom,
    write_dataset,
)


def hollow_cylinder_profile(outer: float, inner: float, medulla: float, blur: float, half_range: float, step: float):
    """Projected path length across a hollow cylinder (cortex 1, medulla ``medulla``), blurred."""
    x = np.arange(-half_range, half_range + step / 2, step)
    chord_out = 2 * np.sqrt(np.clip((outer / 2) ** 2 - x**2, 0, None))
    chord_in = 2 * np.sqrt(np.clip((inner / 2) ** 2 - x**2, 0, None))
    attenuation = chord_out - (1 - medulla) * chord_in
    radius = int(4 * blur / step)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) * step / blur) ** 2)
    blurred = np.convolve(attenuation, kernel / kernel.sum(), mode="same")
    return 0.2 + blurred / blurred.max() * 0.6


def test_edges_of_a_projected_hollow_cylinder_are_found_where_the_bone_is():
    profile = hollow_cylinder_profile(outer=40.0, inner=24.0, medulla=0.35, blur=0.8, half_range=34.0, step=0.25)
    edges = profile_edges(profile, step=0.25, expected_width=40.0)
    assert edges is not None
    # Blur (the image's and the shaft-proportional smoothing) moves the outer edge in and
    # the cortical peaks together; on this profile, linear in path length, the log-domain
    # edges put D 5 % and d 11 % low (index 9 % high). Both within 12 %.
    assert edges.outer == pytest.approx(40.0, rel=0.12) and edges.outer < 40.0
    assert edges.inner == pytest.approx(24.0, rel=0.12) and edges.inner < 24.0
    assert abs(edges.outer_left + edges.outer_right) < 0.2  # centred on the axis


def test_edges_do_not_move_under_a_gamma_change():
    profile = hollow_cylinder_profile(outer=40.0, inner=24.0, medulla=0.35, blur=0.8, half_range=34.0, step=0.25)
    plain = profile_edges(profile, step=0.25, expected_width=40.0)
    gamma = profile_edges(profile**1.4, step=0.25, expected_width=40.0)
    assert plain is not None and gamma is not None
    # Edges are found on the log profile, which a power law only scales: neither the
    # cortical peaks nor the outer derivative extrema move, smoothing included.
    assert gamma.inner == pytest.approx(plain.inner, abs=1e-6)
    assert gamma.outer_left == pytest.approx(plain.outer_left, abs=1e-6)
    assert gamma.outer_right == pytest.approx(plain.outer_right, abs=1e-6)


def test_a_solid_rod_has_no_medullary_canal_and_is_refused():
    profile = hollow_cylinder_profile(outer=40.0, inner=0.0, medulla=1.0, blur=0.8, half_range=34.0, step=0.25)
    assert profile_edges(profile, step=0.25, expected_width=40.0) is None


def test_band_spread_is_small_for_a_steady_noisy_shaft():
    rng = np.random.default_rng(0)
    base = hollow_cylinder_profile(outer=30.0, inner=18.0, medulla=0.3, blur=0.8, half_range=26.0, step=0.25)
    profiles = np.array([base + rng.normal(0, 0.004, base.size) for _ in range(9)])
    band = measure_band(profiles, step=0.25, expected_width=30.0)
    assert band.edges is not None and band.valid_share == 1.0
    assert band.spread < 0.03
    index = (band.edges.outer - band.edges.inner) / band.edges.outer
    # The blur bias of the edges (see profiles.py) shows as an index about 6 % high here.
    assert index == pytest.approx(12.0 / 30.0, rel=0.1)


@pytest.fixture(scope="module")
def phantom_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("phantoms")
    manifest = write_dataset(out, 8, seed=31, size=512, workers=1)
    rows = list(csv.DictReader(manifest.open()))
    return out, rows, plan_dataset(8, 31)


def test_manifest_carries_each_metacarpals_true_widths_and_length(phantom_set):
    _out, rows, specs = phantom_set
    for row, spec in zip(rows, specs):
        assert set(TRUTH_COLUMNS) <= set(row)
        truth = metacarpal_truth(spec.patient, spec.image_number, 512, image_rng(31, spec))
        for bone in ("mc2", "mc3", "mc4"):
            outer, inner = float(row[f"{bone}_outer_px"]), float(row[f"{bone}_inner_px"])
            assert outer == pytest.approx(truth[f"{bone}_outer_px"], abs=1e-3)
            assert 0 < inner < outer and float(row[f"{bone}_length_px"]) > 3 * outer
            # The generator's shell is ci * R inside an outer radius of 0.86 R.
            assert (outer - inner) / outer == pytest.approx(float(row["cortical_index"]) / 0.86, abs=2e-3)


def test_shaft_measurement_matches_phantom_truth_when_the_axis_is_known(phantom_set):
    """The edge measurement alone: D within 6 %, the index within 12 % (see docs for the bias)."""
    out, rows, specs = phantom_set
    errors_outer, errors_index = [], []
    for row, spec in zip(rows, specs):
        pixels = cv2.imread(str(out / row["file"]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
        axes = metacarpal_axes(spec.patient, spec.image_number, 512, image_rng(31, spec))
        for bone, (base, head) in axes.items():
            key = bone.lower()
            outer, inner = float(row[f"{key}_outer_px"]), float(row[f"{key}_inner_px"])
            m = measure_shaft(pixels, bone, base, head, outer)
            if m.measured:
                errors_outer.append(abs(m.outer_width / outer - 1))
                errors_index.append(abs(m.cortical_index / ((outer - inner) / outer) - 1))
    assert len(errors_outer) >= 0.75 * 3 * len(rows)
    # radiogrammetry-1.2 on these 8 phantoms: D 4.0 %, index 8.7 % (the d bias, see the docs).
    assert np.mean(errors_outer) <= 0.05
    assert np.mean(errors_index) <= 0.10


def _all_refused(m: HandMeasurement) -> bool:
    return (not m.measured and m.reason and m.cortical_index is None
            and [b.bone for b in m.bones] == list(MEASURED_BONES)
            and all(not b.measured and b.reason and b.outer_width is None for b in m.bones))


def test_blank_image_is_refused_with_a_reason():
    assert _all_refused(measure_hand(np.full((600, 500), 0.4, np.float32)))


def test_tiny_image_is_refused_as_too_small():
    m = measure_hand(np.random.default_rng(0).random((60, 50)).astype(np.float32))
    assert _all_refused(m) and "too small" in m.reason


def test_knee_like_image_is_refused():
    """Two thick long bones meeting at a joint, no fingers: no metacarpal may be measured."""
    h, w = 800, 600
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    soft = (np.abs(xs - w / 2) < 200).astype(np.float32) * 0.3
    femur = (np.abs(xs - w / 2) < 110) & (ys < 380)
    tibia = (np.abs(xs - w / 2) < 100) & (ys > 420)
    image = 0.05 + soft + 0.45 * (femur | tibia)
    image = cv2.GaussianBlur(image, (0, 0), 3) + np.random.default_rng(1).normal(0, 0.01, image.shape)
    m = measure_hand(np.clip(image, 0, 1).astype(np.float32))
    assert _all_refused(m)


def test_pixel_spacing_gives_millimetres_and_never_otherwise(phantom_set):
    out, rows, specs = phantom_set
    row, spec = rows[0], specs[0]
    pixels = cv2.imread(str(out / row["file"]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    base, head = metacarpal_axes(spec.patient, spec.image_number, 512, image_rng(31, spec))["MC3"]
    outer = float(row["mc3_outer_px"])
    in_px = measure_shaft(pixels, "MC3", base, head, outer)
    in_mm = measure_shaft(pixels, "MC3", base, head, outer, pixel_spacing_mm=0.1)
    assert in_px.measured and in_mm.measured
    assert in_px.unit == "px" and in_mm.unit == "mm"
    assert in_mm.outer_width == pytest.approx(in_px.outer_width * 0.1)
    assert in_mm.cortical_index == pytest.approx(in_px.cortical_index)
    with pytest.raises(ValueError):
        measure_hand(pixels, pixel_spacing_mm=25.0)


def test_hand_box_keeps_coordinates_in_the_full_image(phantom_set):
    out, rows, _ = phantom_set
    pixels = cv2.imread(str(out / rows[0]["file"]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    padded = np.zeros((700, 800), np.float32)
    padded[100:612, 200:712] = pixels
    whole = measure_hand(pixels)
    boxed = measure_hand(padded, hand_box=(200, 100, 712, 612))
    assert whole.measured == boxed.measured
    for a, b in zip(whole.bones, boxed.bones):
        if a.axis is not None:
            assert b.axis is not None
            assert b.axis[0][0] == pytest.approx(a.axis[0][0] + 200, abs=0.5)
            assert b.axis[0][1] == pytest.approx(a.axis[0][1] + 100, abs=0.5)


def test_overlay_is_an_rgb_picture_of_the_same_size_with_lines_drawn(phantom_set):
    out, rows, specs = phantom_set
    row, spec = rows[0], specs[0]
    pixels = cv2.imread(str(out / row["file"]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    base, head = metacarpal_axes(spec.patient, spec.image_number, 512, image_rng(31, spec))["MC3"]
    bone = measure_shaft(pixels, "MC3", base, head, float(row["mc3_outer_px"]))
    hand = HandMeasurement(True, "", (bone,), bone.cortical_index, "BHI", None, None)
    rgb = draw_measurement(pixels, hand)
    assert rgb.shape == (*pixels.shape, 3) and rgb.dtype == np.uint8
    colourful = np.abs(rgb[..., 0].astype(int) - rgb[..., 2].astype(int)) > 40
    (x0, y0), (x1, y1) = bone.line
    assert colourful[round((y0 + y1) / 2), round((x0 + x1) / 2)] or colourful.sum() > 50


def test_real_rsna_hands_are_mostly_measured_with_lines_inside_the_image(samples_dir):
    folder = samples_dir / "rsna-boneage-hand" / "images"
    files = sorted(folder.glob("*.png"))[:16]
    measured = 0
    for path in files:
        pixels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
        m = measure_hand(pixels)
        measured += m.measured
        for b in m.bones:
            if b.measured:
                for x, y in b.line:
                    assert 0 <= x < pixels.shape[1] and 0 <= y < pixels.shape[0]
                assert 0.05 < b.cortical_index < 0.95 and b.unit == "px" and b.quality > 0
        if m.measured:
            assert 0.05 < m.cortical_index < 0.95 and m.cortical_thickness_mm is None and m.index_value is None
    assert measured >= 0.4 * len(files)


def test_mirroring_a_real_hand_keeps_the_index(samples_dir):
    path = samples_dir / "rsna-boneage-hand" / "images" / "10668.png"
    pixels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    a, b = measure_hand(pixels), measure_hand(np.ascontiguousarray(pixels[:, ::-1]))
    assert a.measured and b.measured
    assert math.isclose(a.cortical_index, b.cortical_index, rel_tol=0.05)


def _bone(name: str, outer: float, inner: float, length: float | None, unit: str) -> BoneMeasurement:
    return BoneMeasurement(name, True, "", 1.0, outer, inner, (outer - inner) / 2, length, unit,
                           ((0.0, 0.0), (1.0, 0.0)), ((0.0, 0.0), (0.0, 1.0)), None)


def test_combined_index_is_width_weighted_and_bhi_follows_the_published_formula():
    bones = (_bone("MC2", 8.0, 4.0, 60.0, "mm"), _bone("MC3", 8.4, 4.6, 62.0, "mm"),
             _bone("MC4", 6.6, 3.4, 55.0, "mm"))
    hand = combine_bones(bones, pixel_spacing_mm=0.1, layout_reason="")
    assert hand.measured and hand.index_name == "BHI"
    assert hand.cortical_index == pytest.approx((4.0 + 3.8 + 3.2) / (8.0 + 8.4 + 6.6))
    t, w, length = (2.0 + 1.9 + 1.6) / 3, (8.0 + 8.4 + 6.6) / 3, (60.0 + 62.0 + 55.0) / 3
    assert hand.cortical_thickness_mm == pytest.approx(t)
    assert hand.index_value == pytest.approx(math.pi * t * (1 - t / w) / (length * w) ** 0.33)
    in_pixels = combine_bones(bones, pixel_spacing_mm=None, layout_reason="")
    assert in_pixels.cortical_index == pytest.approx(hand.cortical_index)
    assert in_pixels.index_value is None and in_pixels.cortical_thickness_mm is None


def test_one_measured_bone_is_not_a_hand_measurement():
    refused = BoneMeasurement("MC3", False, "no canal", 0.1, None, None, None, None, "px", None, None, None)
    hand = combine_bones((_bone("MC2", 20.0, 10.0, None, "px"), refused, refused), None, "")
    assert not hand.measured and hand.cortical_index is None and "Fewer than two" in hand.reason


def _axis_x_at(bone: BoneMeasurement, y: float) -> float:
    (x0, y0), (x1, y1) = bone.axis
    return x0 + (x1 - x0) * (y - y0) / (y1 - y0) if y1 != y0 else (x0 + x1) / 2


def test_a_mirrored_phantom_hand_gets_the_same_labels_on_the_same_bones(phantom_set):
    """Mirroring swaps the thumb's side; each label must follow its bone, not the image side."""
    out, rows, _ = phantom_set
    compared = 0
    for row in rows:
        pixels = cv2.imread(str(out / row["file"]), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
        width = pixels.shape[1]
        plain, mirrored = measure_hand(pixels), measure_hand(np.ascontiguousarray(pixels[:, ::-1]))
        for a, b in zip(plain.bones, mirrored.bones, strict=True):
            assert a.bone == b.bone
            if a.measured and b.measured:
                y = (a.line[0][1] + a.line[1][1]) / 2
                # The mirrored bone's axis passes through the mirror image of the original's.
                assert (width - 1 - _axis_x_at(b, y)) == pytest.approx(_axis_x_at(a, y), abs=0.5 * a.outer_width)
                assert b.cortical_index == pytest.approx(a.cortical_index, rel=0.05)
                compared += 1
    assert compared >= 3


@pytest.mark.parametrize("name", ["8280", "8933"])
def test_real_hands_whose_thumb_side_was_misread_are_refused_or_labelled_from_the_thumb(samples_dir, name):
    """RSNA hands on which radiogrammetry-1.0 swapped MC3/MC4 (thumb on the image's right in both).

    1.1 refused both (middle finger check). 1.2 finds 8933's outline inside its exposure
    field and labels it correctly (looked at): MC2 must then lie towards the thumb, MC4
    away from it; anything else must be a refusal.
    """
    pixels = cv2.imread(str(samples_dir / "rsna-boneage-hand" / "images" / f"{name}.png"),
                        cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    m = measure_hand(pixels)
    if not m.measured:
        assert _all_refused(m)
        return
    xs = {b.bone: (b.line[0][0] + b.line[1][0]) / 2 for b in m.bones if b.measured}
    ordered = [xs[bone] for bone in ("MC4", "MC3", "MC2") if bone in xs]
    assert ordered == sorted(ordered)  # from the little finger's side towards the thumb's (image right)


def test_fanning_metacarpals_are_kept_and_a_thumb_off_the_fan_is_dropped():
    def ray(bone: str, degrees: float, x: float) -> Ray:
        t = math.radians(degrees)
        base = (x, 400.0)
        return Ray(bone, base, (x + 200 * math.sin(t), 400 - 200 * math.cos(t)), 20.0, base)

    fan = [ray("MC5", -18, 100), ray("MC4", -6, 140), ray("MC3", 4, 180), ray("MC2", 16, 220)]
    assert [r.bone for r in _parallel_rays(fan)] == ["MC5", "MC4", "MC3", "MC2"]
    thumb_as_mc2 = [*fan[:3], ray("MC2", 50, 220)]
    assert [r.bone for r in _parallel_rays(thumb_as_mc2)] == ["MC5", "MC4", "MC3"]


def _bar_image() -> np.ndarray:
    """A long vertical hollow shaft with no joint gap anywhere: its ends are not in view."""
    profile = hollow_cylinder_profile(outer=40.0, inner=22.0, medulla=0.3, blur=1.0, half_range=150.0, step=1.0)
    return np.tile(profile.astype(np.float32), (600, 1))


def test_a_shaft_whose_ends_were_not_seen_is_measured_only_between_joint_gaps():
    """Without joint gaps, the band goes to the localiser's waist, trusted only when the bone's ends were seen."""
    image = _bar_image()
    centre_x = (image.shape[1] - 1) / 2
    seen = Ray("MC3", (centre_x, 450.0), (centre_x, 150.0), 40.0, (centre_x, 300.0), None, True)
    unseen = Ray("MC3", (centre_x, 450.0), (centre_x, 150.0), 40.0, (centre_x, 300.0), None, False)
    assert _measure_bone(image, seen, None).measured
    refused = _measure_bone(image, unseen, None)
    assert not refused.measured and "Mid-shaft cannot be located" in refused.reason


def test_an_axis_that_crosses_the_shaft_at_an_angle_is_refused():
    """A traced axis 25 degrees off the shaft would put a slanted band across it: refused."""
    image = _bar_image()
    cx, half = (image.shape[1] - 1) / 2, 150.0
    dx = half * math.tan(math.radians(25))
    slanted = Ray("MC3", (cx - dx, 300 + half), (cx + dx, 300 - half), 40.0, (cx, 300.0), None, True)
    refused = _measure_bone(image, slanted, None)
    assert not refused.measured and "does not follow the shaft" in refused.reason
    straight = Ray("MC3", (cx, 300 + half), (cx, 300 - half), 40.0, (cx, 300.0), None, True)
    assert _measure_bone(image, straight, None).measured


def _rsna(samples_dir, name: str) -> np.ndarray:
    path = samples_dir / "rsna-boneage-hand" / "images" / f"{name}.png"
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255


@pytest.mark.parametrize("name", ["1880", "9224", "1848", "10973"])
def test_a_hand_inside_a_bright_exposure_field_is_found_inside_it(samples_dir, name):
    """1.1 took these films' exposure field (or a frame around it) for the hand outline and
    refused them; 1.2 looks for the hand inside a component that fills its convex hull
    (bands looked at: on MC2-MC4, labelled from the thumb's side)."""
    m = measure_hand(_rsna(samples_dir, name))
    assert m.measured and sum(b.measured for b in m.bones) >= 2


@pytest.mark.xfail(strict=True, reason="radiogrammetry-1.3 regression, not fixed: with the palm profile "
                   "0.45-0.65 finger spans below the webs, 10841 rotated by 15 degrees is refused as 'irregularly "
                   "spaced' (measured by 1.2); see docs/radiogrammetry.md, share measured fell 82 -> 75")
def test_a_rotated_real_hand_is_made_upright_and_keeps_its_labels(samples_dir):
    """1.1 turned the hand once by the fingers' lean; 10841 rotated by 15 degrees was then
    refused (middle finger check). Repeated turns stand it upright: same bones, same labels."""
    pixels = _rsna(samples_dir, "10841")
    h, w = pixels.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 15.0, 1.0)
    rotated = cv2.warpAffine(pixels, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    plain, turned = measure_hand(pixels), measure_hand(rotated)
    assert plain.measured and turned.measured
    for a, b in zip(plain.bones, turned.bones, strict=True):
        if a.measured and b.measured:
            centre = np.mean(a.line, axis=0)
            expected = matrix @ np.array([centre[0], centre[1], 1.0])
            # The rotated band's line lies on the same bone: within a shaft width of the rotated original.
            assert np.hypot(*(np.mean(b.line, axis=0) - expected)) < a.outer_width
    assert turned.cortical_index == pytest.approx(plain.cortical_index, rel=0.05)


def test_a_bright_convex_field_alone_is_not_a_hand():
    """A uniform bright rectangle on a dark film: a field with nothing inside it, refused."""
    image = np.full((600, 500), 0.05, np.float32)
    image[60:540, 50:450] = 0.5
    image = cv2.GaussianBlur(image, (0, 0), 2) + np.random.default_rng(3).normal(0, 0.01, image.shape).astype(np.float32)
    layout = locate_metacarpals(np.clip(image, 0, 1))
    assert layout.rays == () and layout.reason


def test_phantom_figures_of_the_evaluation_do_not_regress():
    """The published phantom figures (docs/radiogrammetry.md), with a little slack.

    radiogrammetry-1.3: given the true axis, 90 of 120 bones, MAE D 4.3 %, index 5.6 % (1.2:
    89, 3.6 %, 6.8 %: 1.2 often centred the band on a joint-gap piece that held the
    proximal phalanx too, distal of mid-shaft where the shaft reads wider; 1.3 trusts such a
    piece only when the bone beyond it is a proximal phalanx of its length); end to end
    19 of 40 hands, index MAE 7.2 %, 1 band on the wrong bone and 4 wrong lengths (1.2: 15
    and 16). The 5 % target for d and the index is not met yet; these bounds catch a step
    backwards.
    """
    from training.radiogrammetry_eval import phantom_accuracy

    figures = phantom_accuracy()
    assert figures["given_axis_bones_measured"] >= 85
    assert figures["given_axis_mae_rel"]["D"] <= 0.05
    assert figures["given_axis_mae_rel"]["index"] <= 0.065
    assert figures["hands_measured_end_to_end"] >= 17
    assert figures["end_to_end_mae_rel"]["index"] <= 0.08
    placement = figures["end_to_end_placement"]
    assert placement["wrong_bone"] <= 1 and placement["wrong_length"] <= 4, placement


#: Phantoms (seed 2026, 512 px, the evaluation's) on which radiogrammetry-1.2 put 8 bands on
#: proximal phalanges (19, 20, 23, 24, 26, 27) and reported 7 wrong lengths, up to 3.2 times
#: the metacarpal's (0, 1, 19, 20, 22, 24, 25). 1.3 has none there (the 40 as a whole: 1 and 4).
FIXED_PHANTOMS = (0, 1, 2, 19, 20, 21, 22, 23, 24, 25, 26, 27)


def test_bands_lie_on_the_true_metacarpal_of_their_label_and_lengths_are_the_metacarpals():
    from training.radiogrammetry_eval import PHANTOM_SEED, PlacementCount

    tally = PlacementCount()
    specs = plan_dataset(max(FIXED_PHANTOMS) + 1, PHANTOM_SEED)
    for index in FIXED_PHANTOMS:
        spec = specs[index]
        image = render_phantom(spec.patient, spec.image_number, 512, image_rng(PHANTOM_SEED, spec))
        pixels = np.round(image * 255).astype(np.float32) / 255  # as the evaluation's 8-bit PNGs
        truth = metacarpal_truth(spec.patient, spec.image_number, 512, image_rng(PHANTOM_SEED, spec))
        tally.add(str(index), measure_hand(pixels), truth)
    figures = tally.figures()
    assert figures["bones_measured"] >= 20, figures  # 1.3: 22 bones in 8 hands
    assert figures["wrong_bone"] == 0 and figures["wrong_length"] == 0, figures


def test_a_bone_followed_by_a_middle_phalanx_gives_no_length():
    """A joint-gap piece whose distal neighbour is far shorter holds its proximal phalanx too."""
    from screening.anatomy.radiogrammetry import _place_on_metacarpal

    carpal, metacarpal, phalanx = (-80.0, -60.0, True), (-58.0, 40.0, True), (42.0, 100.0, True)
    middle = (102.0, 130.0, True)
    assert _place_on_metacarpal([None, carpal, metacarpal, phalanx, None], 2, 10.0) == (2, "")
    fused = (-58.0, 100.0, True)  # metacarpal and proximal phalanx, their gap not seen
    index, reason = _place_on_metacarpal([None, carpal, fused, middle, None], 2, 10.0)
    assert reason
    # Started on the proximal phalanx: its longer proximal neighbour is the metacarpal.
    assert _place_on_metacarpal([None, carpal, metacarpal, phalanx, middle, None], 3, 10.0) == (2, "")


def test_lengths_that_disagree_between_metacarpals_are_refused():
    from screening.anatomy.radiogrammetry import _check_consistency

    def bone(name: str, length: float) -> BoneMeasurement:
        return BoneMeasurement(name, True, "", 0.9, 20.0, 10.0, 5.0, length, "px", ((0, 0), (1, 1)), None, None)

    checked = _check_consistency([bone("MC2", 200.0), bone("MC3", 190.0), bone("MC4", 360.0)])
    assert [b.measured for b in checked] == [True, True, False]
    assert "length" in checked[2].reason
