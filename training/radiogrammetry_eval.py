"""Every published radiogrammetry figure, from one command.

    PYTHONPATH=. python -m training.radiogrammetry_eval --out docs [--shared ../shared]

Prints, and writes to ``OUT/radiogrammetry-figures.json``:

* phantom accuracy: MAE of D, d and the combined cortical index against the generator's
  truth (end to end, and with the true axis given, which isolates the edge measurement);
* phantom placement end to end: bands whose centre is not on the true metacarpal of their
  label, and lengths far from the true one, on the 40 phantoms and on 200 more of 512-2048 px;
* share of real PA hands measured (RSNA bone-age set; hand/wrist images of the
  hold-out set, evaluation only: nothing here is tuned on it);
* precision: CV of the combined index over rotated (+-15 deg), rescaled (0.6, 1.4),
  gamma-changed (0.7, 1.4), JPEG q70 and mirrored copies of each measured RSNA image;
* Spearman's rho of the combined index against bone age on the RSNA set, with a plot;
* a contact sheet of 48 measured RSNA hands with their lines drawn.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import tempfile
from pathlib import Path

import cv2
import numpy as np

from screening.anatomy.radiogrammetry import (
    BoneMeasurement,
    HandMeasurement,
    draw_measurement,
    measure_hand,
    measure_shaft,
)
from screening.imaging import decode_image
from training.phantoms import (
    TRUTH_BONES,
    image_rng,
    metacarpal_axes,
    metacarpal_truth,
    plan_dataset,
    render_phantom,
    to_png_array,
    write_dataset,
)

logger = logging.getLogger(__name__)

PHANTOM_SEED = 2026
PHANTOM_COUNT = 40
PHANTOM_SIZE = 512
#: The larger placement check: (seed, images, size in pixels) per film size.
PLACEMENT_SETS = ((2101, 50, 512), (2102, 50, 1024), (2103, 50, 1536), (2104, 50, 2048))
#: A measured length within this share of the true base-to-head axis length is right.
#: The visible bone runs past both axis ends by its rounded epiphyses, and the joint gaps
#: are found between them, so the measured length of a correctly placed bone reads a
#: little long; a phalanx (0.45-0.65 of its metacarpal on these phantoms) or a metacarpal
#: joined to its phalanx is far outside.
LENGTH_TOLERANCE = (0.85, 1.35)


def _read_gray(path: Path) -> np.ndarray:
    return decode_image(path.read_bytes(), path.name).pixels


def placement(bone: BoneMeasurement, truth: dict[str, float]) -> tuple[bool, bool | None]:
    """(band on the wrong bone, length wrong) of one measured bone against the generator's truth.

    The band is on its bone when its centre lies within the true metacarpal of that label:
    between the true base and head along the axis, and no further from the axis than the
    shaft's outer radius. A length is wrong when it is outside ``LENGTH_TOLERANCE`` of the
    true axis length (None when no length was reported). Coordinates and the length must
    be in pixels of the image the truth belongs to.
    """
    key = bone.bone.lower()
    base = (truth[f"{key}_base_x_px"], truth[f"{key}_base_y_px"])
    head = (truth[f"{key}_head_x_px"], truth[f"{key}_head_y_px"])
    points = bone.band or bone.line
    if points is None:
        raise ValueError("a measured bone without a band or line")
    centre = (float(np.mean([p[0] for p in points])), float(np.mean([p[1] for p in points])))
    dx, dy = head[0] - base[0], head[1] - base[1]
    length = math.hypot(dx, dy)
    along = ((centre[0] - base[0]) * dx + (centre[1] - base[1]) * dy) / length**2
    across = abs((centre[0] - base[0]) * dy - (centre[1] - base[1]) * dx) / length
    wrong_bone = not (0.0 <= along <= 1.0 and across <= truth[f"{key}_outer_px"] / 2)
    wrong_length = None
    if bone.length is not None:
        ratio = bone.length / truth[f"{key}_length_px"]
        wrong_length = not LENGTH_TOLERANCE[0] <= ratio <= LENGTH_TOLERANCE[1]
    return wrong_bone, wrong_length


class PlacementCount:
    """Tally of measured bones, bands on the wrong bone and wrong lengths, with the cases."""

    def __init__(self) -> None:
        self.hands = self.hands_measured = self.bones = self.lengths = 0
        self.wrong_bone: list[str] = []
        self.wrong_length: list[str] = []

    def add(self, name: str, hand: HandMeasurement, truth: dict[str, float]) -> None:
        self.hands += 1
        self.hands_measured += hand.measured
        for bone in hand.bones:
            if not bone.measured:
                continue
            self.bones += 1
            wrong_bone, wrong_length = placement(bone, truth)
            self.lengths += wrong_length is not None
            if wrong_bone:
                self.wrong_bone.append(f"{name} {bone.bone}")
            if wrong_length:
                self.wrong_length.append(f"{name} {bone.bone}")

    def figures(self) -> dict:
        return {"hands": self.hands, "hands_measured": self.hands_measured, "bones_measured": self.bones,
                "lengths_reported": self.lengths, "wrong_bone": len(self.wrong_bone),
                "wrong_length": len(self.wrong_length), "wrong_bone_cases": self.wrong_bone,
                "wrong_length_cases": self.wrong_length}


def phantom_placement(sets: tuple[tuple[int, int, int], ...] = PLACEMENT_SETS) -> dict:
    """Wrong-bone bands and wrong lengths end to end on phantoms of several film sizes.

    The images are rendered in memory and quantised to 8 bits as ``write_dataset`` stores
    them; cases are named ``{size}/{seed}/{index}``.
    """
    per_size = {}
    total = PlacementCount()
    for seed, count, size in sets:
        tally = PlacementCount()
        for spec in plan_dataset(count, seed):
            pixels = to_png_array(render_phantom(spec.patient, spec.image_number, size, image_rng(seed, spec)), 8)
            hand = measure_hand(pixels.astype(np.float32) / 255.0)
            truth = metacarpal_truth(spec.patient, spec.image_number, size, image_rng(seed, spec))
            name = f"{size}/{seed}/{spec.index}"
            tally.add(name, hand, truth)
            total.add(name, hand, truth)
        per_size[str(size)] = tally.figures()
    return {"sets": [list(s) for s in sets], "total": total.figures(), "per_size": per_size}


def phantom_accuracy(count: int = PHANTOM_COUNT) -> dict:
    """Relative MAE of D, d and the index vs truth, end to end and with the true axis; placement end to end."""
    with tempfile.TemporaryDirectory() as tmp:
        manifest = write_dataset(Path(tmp), count, seed=PHANTOM_SEED, size=PHANTOM_SIZE, workers=1)
        rows = list(csv.DictReader(manifest.open()))
        specs = plan_dataset(count, PHANTOM_SEED)
        end_to_end: dict[str, list[float]] = {"D": [], "d": [], "index": []}
        given_axis: dict[str, list[float]] = {"D": [], "d": [], "index": []}
        hands_measured = 0
        bones_given = 0
        placed = PlacementCount()
        for spec, row in zip(specs, rows, strict=True):
            pixels = _read_gray(Path(tmp) / row["file"])
            hand = measure_hand(pixels)
            hands_measured += hand.measured
            placed.add(row["file"], hand, {k: float(v) for k, v in row.items() if k.endswith("_px")})
            axes = metacarpal_axes(spec.patient, spec.image_number, PHANTOM_SIZE, image_rng(PHANTOM_SEED, spec))
            for bone in TRUTH_BONES:
                key = bone.lower()
                true_d_outer, true_d_inner = float(row[f"{key}_outer_px"]), float(row[f"{key}_inner_px"])
                found = next(b for b in hand.bones if b.bone == bone)
                if found.measured:
                    _add_errors(end_to_end, found.outer_width, found.inner_width, true_d_outer, true_d_inner)
                base, head = axes[bone]
                shaft = measure_shaft(pixels, bone, base, head, true_d_outer)
                if shaft.measured:
                    bones_given += 1
                    _add_errors(given_axis, shaft.outer_width, shaft.inner_width, true_d_outer, true_d_inner)
    return {
        "images": count,
        "size_px": PHANTOM_SIZE,
        "hands_measured_end_to_end": hands_measured,
        "end_to_end_bones": len(end_to_end["D"]),
        "end_to_end_mae_rel": {k: _mae(v) for k, v in end_to_end.items()},
        "end_to_end_placement": placed.figures(),
        "given_axis_bones_measured": bones_given,
        "given_axis_bones_total": 3 * count,
        "given_axis_mae_rel": {k: _mae(v) for k, v in given_axis.items()},
        "given_axis_bias_rel": {k: (float(np.mean(v)) if v else None) for k, v in given_axis.items()},
    }


def _add_errors(errors: dict[str, list[float]], outer, inner, true_outer, true_inner) -> None:  # type: ignore[no-untyped-def]
    errors["D"].append(outer / true_outer - 1)
    errors["d"].append(inner / true_inner - 1)
    true_index = (true_outer - true_inner) / true_outer
    errors["index"].append(((outer - inner) / outer) / true_index - 1)


def _mae(values: list[float]) -> float | None:
    return float(np.mean(np.abs(values))) if values else None


def _variants(pixels: np.ndarray) -> list[np.ndarray]:
    """The precision perturbations: rotation, rescale, gamma, JPEG q70, mirror."""
    h, w = pixels.shape
    out = []
    for angle in (-15.0, 15.0):
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        out.append(cv2.warpAffine(pixels, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT))
    for factor in (0.6, 1.4):
        out.append(cv2.resize(pixels, (int(w * factor), int(h * factor)), interpolation=cv2.INTER_AREA
                              if factor < 1 else cv2.INTER_LINEAR))
    for gamma in (0.7, 1.4):
        out.append(np.power(np.clip(pixels, 0, 1), gamma).astype(np.float32))
    _ok, buf = cv2.imencode(".jpg", np.round(pixels * 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 70])
    decoded = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if decoded is None:
        raise ValueError("JPEG re-encoding failed")
    out.append(decoded.astype(np.float32) / 255.0)
    out.append(np.ascontiguousarray(pixels[:, ::-1]))
    return out


def rsna_figures(shared: Path, out_dir: Path) -> dict:
    """Share measured, precision, bone-age correlation and the contact sheet on the RSNA set."""
    from scipy.stats import spearmanr

    folder = shared / "xray-samples" / "rsna-boneage-hand"
    labels = {row["id"]: row for row in csv.DictReader((folder / "labels.csv").open())}
    results: list[tuple[str, np.ndarray, HandMeasurement]] = []
    for path in sorted((folder / "images").glob("*.png")):
        pixels = _read_gray(path)
        results.append((path.stem, pixels, measure_hand(pixels)))
    measured = [(name, px, m) for name, px, m in results if m.measured]
    cvs = []
    for _, pixels, m in measured:
        values = [_index(m)]
        for variant in _variants(pixels):
            v = measure_hand(variant)
            if v.measured:
                values.append(_index(v))
        if len(values) >= 5:
            cvs.append(float(np.std(values, ddof=1) / np.mean(values)))
    ages = [float(labels[name]["boneage"]) for name, _, _ in measured]
    index = [_index(m) for _, _, m in measured]
    rho, p_value = spearmanr(ages, index) if len(index) > 2 else (float("nan"), float("nan"))
    _plot_boneage(ages, index, [labels[n]["male"] == "True" for n, _, _ in measured], rho, out_dir)
    _contact_sheet([(name, px, m) for name, px, m in measured][:48], out_dir / "radiogrammetry-contact-sheet.png")
    reasons: dict[str, int] = {}
    for _, _, m in results:
        if not m.measured:
            reasons[m.reason] = reasons.get(m.reason, 0) + 1
    return {
        "images": len(results),
        "measured": len(measured),
        "share_measured": len(measured) / max(len(results), 1),
        "refusal_reasons": reasons,
        "precision_images": len(cvs),
        "precision_cv_median": float(np.median(cvs)) if cvs else None,
        "precision_share_cv_le_2pct": float(np.mean(np.array(cvs) <= 0.02)) if cvs else None,
        "spearman_rho_index_vs_boneage": float(rho),
        "spearman_p": float(p_value),
    }


def _index(m: HandMeasurement) -> float:
    """The combined index of a measured hand (never None once ``measured`` is true)."""
    if m.cortical_index is None:
        raise ValueError("a measured hand without a combined index")
    return m.cortical_index


def holdout_figures(shared: Path) -> dict:
    """Share measured on the hold-out's hand/wrist images (evaluation only), PA hands apart."""
    folder = shared / "xray-holdout"
    rows = [r for r in csv.DictReader((folder / "manifest.csv").open()) if r["file"].startswith("hand-wrist/")]
    per_view: dict[str, list[bool]] = {}
    for row in rows:
        try:
            pixels = _read_gray(folder / row["file"])
            ok = measure_hand(pixels).measured
        except Exception:  # noqa: BLE001 - an undecodable file (e.g. WebP) counts as not measured
            ok = False
        pa_hand = row["body_part"] == "hand" and row["view"] == "PA"
        per_view.setdefault("pa_hand" if pa_hand else "other_hand_wrist", []).append(ok)
    return {k: {"images": len(v), "measured": int(sum(v)), "share": sum(v) / max(len(v), 1)}
            for k, v in per_view.items()}


def _plot_boneage(ages: list[float], index: list[float], male: list[bool], rho: float, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ages_a, index_a, male_a = np.array(ages), np.array(index), np.array(male, bool)
    ax.scatter(ages_a[male_a] / 12, index_a[male_a], s=14, label="boys")
    ax.scatter(ages_a[~male_a] / 12, index_a[~male_a], s=14, label="girls")
    ax.set_xlabel("bone age (years, RSNA label)")
    ax.set_ylabel("combined cortical index (D - d) / D")
    ax.set_title(f"MC2-MC4 cortical index vs bone age (n = {len(ages)}, Spearman rho = {rho:.2f})", fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "radiogrammetry-vs-boneage.png")
    plt.close(fig)


def _contact_sheet(items: list[tuple[str, np.ndarray, HandMeasurement]], path: Path, tile: int = 220) -> None:
    tiles = []
    for name, pixels, m in items:
        rgb = draw_measurement(pixels, m)
        h, w = rgb.shape[:2]
        s = tile / max(h, w)
        small = cv2.resize(rgb, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
        canvas = np.zeros((tile, tile, 3), np.uint8)
        canvas[: small.shape[0], : small.shape[1]] = small
        cv2.putText(canvas, name, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        tiles.append(canvas)
    while len(tiles) % 8:
        tiles.append(np.zeros((tile, tile, 3), np.uint8))
    sheet = np.vstack([np.hstack(tiles[i : i + 8]) for i in range(0, len(tiles), 8)])
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs"))
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--phantoms", type=int, default=PHANTOM_COUNT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    figures = {"phantoms": phantom_accuracy(args.phantoms)}
    print(json.dumps({"phantoms": figures["phantoms"]}, indent=1), flush=True)
    figures["phantom_placement"] = phantom_placement()
    print(json.dumps({"phantom_placement": figures["phantom_placement"]}, indent=1), flush=True)
    if args.shared.is_dir():
        figures["rsna"] = rsna_figures(args.shared, args.out)
        print(json.dumps({"rsna": figures["rsna"]}, indent=1), flush=True)
        figures["holdout"] = holdout_figures(args.shared)
        print(json.dumps({"holdout": figures["holdout"]}, indent=1), flush=True)
    (args.out / "radiogrammetry-figures.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
