"""Where does the risk model look on real hands? The share of Grad-CAM peaks inside the located hand.

Runs the product's own steps on real hand/wrist radiographs: decode, the hand gate
and crop (:func:`screening.anatomy.prepare.hand_region`), the stored-image encoding
ingest writes, ``preprocess`` and the bundle's predictor (calibrated probabilities +
Grad-CAM in one pass, :class:`screening.model.inference.Predictor`). The heatmap's
peak is mapped back to the FILE's own pixel coordinates and checked against the
gate's ``hand_box``. Sources: the real hands of ``../shared/xray-samples`` (RSNA bone
age, GRAZPEDWRI-DX: development data) and the hand/wrist images of
``../shared/xray-holdout`` (evaluation only: nothing here is trained or tuned on it;
``--development`` leaves them out while a change is being worked on).

Two figures per image, so a reader sees whether the model looks at the hand and not
only at the box around it:

* **inside the box**: the peak lies inside the gate's ``hand_box`` (the issue's target);
* **on the hand**: the peak lies on the hand's tissue or bone, a stricter test
  (:func:`tissue_mask`: clearly brighter than the film's background, in the box).

A flat heatmap (the predicted class has no positive evidence anywhere: Grad-CAM's
ReLU leaves nothing, and the overlay is one even colour) has no peak and counts as
a miss in both; it is also counted on its own.

``--input`` reproduces earlier pipelines for the before/after comparison in
``docs/intended-use.md``: ``whole`` (before the gate, the whole film goes to the model)
and ``box`` (the gate's box alone, letterboxed by ``preprocess``; before the square crop)::

    python -m training.gradcam_eval --out docs/figures/gradcam-on-hand.jpg
    python -m training.gradcam_eval --input box --bundle path/to/old-bundle

The tabular input is a fixed 65-year-old woman for every image: most of these hands are
children's (outside the screening population, never screened by the product), and the
question here is only where the image branch looks.
"""

from __future__ import annotations

import csv
import json
import logging
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import cv2
import numpy as np

from screening.anatomy.gate import Box, load_gate
from screening.anatomy.prepare import crop_bounds, crop_hand
from screening.config import PROJECT_ROOT
from screening.imaging import DecodeError, PreprocessParams, decode_image, preprocess
from screening.imaging.stored import decode_normalised_png, encode_normalised_png

logger = logging.getLogger(__name__)

SHARED = PROJECT_ROOT.parent / "shared"
AGE_MONTHS, SEX = 65 * 12, "F"
TARGET = 0.95
THUMB = 200  # contact-sheet tile height in pixels
TISSUE_STEP = 0.1  # tissue_mask: brighter than the film's background by this share of the box's range


@dataclass(frozen=True)
class HandFile:
    source: str
    path: Path


@dataclass(frozen=True)
class Outcome:
    source: str
    file: str
    verdict: str
    hand_box: Box | None
    peak: tuple[int, int] | None  # (x, y) in the file's pixels; None when the heatmap is flat
    inside: bool  # the peak lies inside hand_box
    on_hand: bool  # ... and on the hand's tissue or bone (tissue_mask)
    predicted: str | None = None


HOLDOUT_SOURCE = "holdout-hand-wrist"


def real_hands(shared: Path, holdout: bool = True) -> list[HandFile]:
    """The real hand/wrist radiographs: xray-samples (RSNA, GRAZPEDWRI-DX) and, unless
    ``holdout`` is False, the hold-out's hands."""
    samples = shared / "xray-samples"
    files = [HandFile("rsna-boneage-hand", p) for p in sorted((samples / "rsna-boneage-hand" / "images").glob("*.png"))]
    grazpedwri = samples / "grazpedwri-dx-osteopenia-wrist"
    files += [HandFile("grazpedwri-dx", grazpedwri / row["file"]) for row in _rows(grazpedwri / "manifest.csv")]
    if holdout:
        held = shared / "xray-holdout"
        files += [HandFile(HOLDOUT_SOURCE, held / row["file"]) for row in _rows(held / "manifest.csv")
                  if row["body_part"] in ("hand", "wrist")]
    return files


def _rows(manifest: Path) -> list[dict[str, str]]:
    with manifest.open(newline="") as fh:
        return list(csv.DictReader(fh))


INPUTS = {"square": "square hand crop (the pipeline)", "box": "the gate's box alone (before the square crop)",
          "whole": "whole film (before the gate)"}


def model_view(pixels: np.ndarray, mode: str) -> tuple[np.ndarray, Box, str, Box | None]:
    """(stored pixels the model reads, their region in file coordinates, gate verdict, gate hand box).

    The region may reach past the film where :func:`crop_hand` filled a square crop.
    """
    verdict = load_gate().judge(pixels)
    height, width = pixels.shape
    if mode == "whole" or verdict.hand_box is None:
        region: Box = (0, 0, width, height)
        view = pixels
    elif mode == "box":
        region = verdict.hand_box
        view = pixels[region[1] : region[3], region[0] : region[2]]
    else:
        region = crop_bounds(verdict.hand_box, width, height)
        view = crop_hand(pixels, verdict.hand_box)
    # What ingest stores and the inference worker reads back (downscaled to at most 1024 px a side).
    return decode_normalised_png(encode_normalised_png(view)), region, verdict.verdict, verdict.hand_box


def content_square(size: int, view_shape: tuple[int, int]) -> Box:
    """Where ``preprocess`` puts a view of ``view_shape`` (h, w) in its ``size`` x ``size``
    input: (left, top, right, bottom). A square view fills it; any other is letterboxed."""
    view_h, view_w = view_shape
    scale = size / max(view_h, view_w)
    content_w, content_h = min(size, max(1, round(view_w * scale))), min(size, max(1, round(view_h * scale)))
    left, top = (size - content_w) // 2, (size - content_h) // 2
    return left, top, left + content_w, top + content_h


def peak_in_file(heatmap: np.ndarray, view_shape: tuple[int, int], region: Box) -> tuple[int, int] | None:
    """The heatmap's peak, from the model input back to the file's pixel coordinates.

    A peak in letterbox padding (a non-square view) or in a square crop's fill maps to a
    point outside the film, so it never counts as inside the hand. None when the
    heatmap is flat (no peak at all).
    """
    if float(heatmap.max()) <= 0.0:
        return None
    py, px = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    left, top, right, bottom = content_square(heatmap.shape[0], view_shape)
    x0, y0, x1, y1 = region
    fx = x0 + (px + 0.5 - left) * (x1 - x0) / (right - left)
    fy = y0 + (py + 0.5 - top) * (y1 - y0) / (bottom - top)
    return int(np.floor(fx)), int(np.floor(fy))


def inside(point: tuple[int, int] | None, box: Box | None) -> bool:
    if point is None or box is None:
        return False
    x, y = point
    return box[0] <= x < box[2] and box[1] <= y < box[3]


def tissue_mask(pixels: np.ndarray, box: Box) -> np.ndarray:
    """Bool mask (file pixels) of the hand's soft tissue and bone inside ``box``.

    The metric's own definition, not the product's: within the box, on a lightly
    blurred copy, the most common level is the film's background (the hand covers
    less of the box than the background does, and its levels are spread wide), and a
    pixel is tissue when it is brighter than that by at least TISSUE_STEP of the box's
    range; specks are opened away. Outside the box the mask is False.
    """
    x0, y0, x1, y1 = box
    region = cv2.GaussianBlur(np.asarray(pixels, np.float32)[y0:y1, x0:x1], (0, 0), 2.0)
    low, high = (float(v) for v in np.percentile(region, [0.5, 99.5]))
    mask = np.zeros(pixels.shape, bool)
    if high - low < 1e-3:
        return mask
    counts, edges = np.histogram(region, bins=128, range=(low, high))
    background = float(edges[int(np.argmax(counts))] + edges[1] - edges[0])
    tissue = (region > background + TISSUE_STEP * (high - low)).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask[y0:y1, x0:x1] = cv2.morphologyEx(tissue, cv2.MORPH_OPEN, kernel).astype(bool)
    return mask


def on_mask(point: tuple[int, int] | None, mask: np.ndarray) -> bool:
    if point is None:
        return False
    x, y = point
    return 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and bool(mask[y, x])


def evaluate(files: list[HandFile], bundle: Path,
             mode: str) -> tuple[list[Outcome], dict[int, np.ndarray]]:
    """One outcome per file; a contact-sheet tile per readable file, by outcome index."""
    from screening.model import load_bundle
    from screening.model.inference import Predictor
    from screening.model.network import encode_tabular

    predictor = Predictor(load_bundle(bundle))
    params = PreprocessParams.from_dict(predictor.card.preprocessing or {})
    names = list(predictor.card.class_names)
    tabular = encode_tabular(AGE_MONTHS, SEX)[np.newaxis]
    outcomes: list[Outcome] = []
    tiles: dict[int, np.ndarray] = {}
    for item in files:
        try:
            pixels = decode_image(item.path.read_bytes(), filename=item.path.name).pixels
        except DecodeError as exc:  # the product rejects it at ingest too (e.g. WebP): never screened
            logger.warning("%s: %s", item.path.name, exc.reason)
            outcomes.append(Outcome(item.source, item.path.name, "unreadable", None, None, False, False))
            continue
        view, region, verdict, box = model_view(pixels, mode)
        prepared = preprocess(view, params.size, params.clip_limit, params.tile_grid)
        probs, heatmaps = predictor.predict_arrays(prepared.model_input[np.newaxis], tabular)
        peak = peak_in_file(heatmaps[0], view.shape, region)
        mask = tissue_mask(pixels, box) if box is not None else np.zeros(pixels.shape, bool)
        outcomes.append(Outcome(item.source, item.path.name, verdict, box, peak, inside(peak, box),
                                on_mask(peak, mask), names[int(np.argmax(probs[0]))]))
        tiles[len(outcomes) - 1] = _tile(pixels, heatmaps[0], view.shape, region, box, peak, mask)
    return outcomes, tiles


def _tile(pixels: np.ndarray, heatmap: np.ndarray, view_shape: tuple[int, int], region: Box,
          box: Box | None, peak: tuple[int, int] | None, mask: np.ndarray) -> np.ndarray:
    """The film (THUMB px tall) with the heatmap over the part of the model's region on the
    film, the tissue mask's outline, the hand box and the peak."""
    height, width = pixels.shape
    scale = THUMB / height
    thumb_w = max(1, round(width * scale))
    thumb = cv2.resize((np.clip(pixels, 0, 1) * 255).astype(np.uint8), (thumb_w, THUMB), interpolation=cv2.INTER_AREA)
    tile = cv2.cvtColor(thumb, cv2.COLOR_GRAY2BGR)
    left, top, right, bottom = content_square(heatmap.shape[0], view_shape)
    content = heatmap[top:bottom, left:right]
    x0, y0, x1, y1 = (round(v * scale) for v in region)
    if x1 > x0 and y1 > y0:
        heat = cv2.resize(content.astype(np.float32), (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
        coloured = cv2.applyColorMap((np.clip(heat, 0, 1) * 255).astype(np.uint8), cv2.COLORMAP_JET)
        fx0, fy0, fx1, fy1 = max(x0, 0), max(y0, 0), min(x1, thumb_w), min(y1, THUMB)  # the part on the film
        if fx1 > fx0 and fy1 > fy0:
            part = coloured[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
            tile[fy0:fy1, fx0:fx1] = cv2.addWeighted(tile[fy0:fy1, fx0:fx1], 0.6, part, 0.4, 0)
    small = cv2.resize(mask.astype(np.uint8), (thumb_w, THUMB), interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(small, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(tile, contours, -1, (255, 255, 255), 1)
    if box is not None:
        cv2.rectangle(tile, (round(box[0] * scale), round(box[1] * scale)),
                      (round(box[2] * scale) - 1, round(box[3] * scale) - 1), (0, 200, 0), 2)
    if peak is not None:
        centre = (round(peak[0] * scale), round(peak[1] * scale))
        colour = (0, 0, 255) if not inside(peak, box) else ((255, 0, 255) if on_mask(peak, mask) else (0, 200, 255))
        cv2.circle(tile, centre, 6, (255, 255, 255), -1)
        cv2.circle(tile, centre, 4, colour, -1)
    return tile


def contact_sheet(tiles: dict[int, np.ndarray], outcomes: list[Outcome], columns: int = 10,
                  limit: int = 40) -> np.ndarray:
    """Up to ``limit`` tiles of located hands: every miss outside the box first, so they are
    seen, then peaks in the box but off the hand (up to half the rest), then hits on the
    hand, each group spread over the sources."""
    located = [i for i in tiles if outcomes[i].hand_box is not None]
    outside = [i for i in located if not outcomes[i].inside][:limit]
    off_hand = [i for i in located if outcomes[i].inside and not outcomes[i].on_hand]
    hits = [i for i in located if outcomes[i].on_hand]
    chosen = outside + _spread(off_hand, (limit - len(outside)) // 2)
    chosen += _spread(hits, limit - len(chosen))
    width = 160
    cells = []
    for i in chosen:
        tile = tiles[i]
        fitted = cv2.resize(tile, (width, round(tile.shape[0] * width / tile.shape[1]))) \
            if tile.shape[1] > width else tile
        cell = np.full((THUMB, width, 3), 255, np.uint8)
        h, w = min(THUMB, fitted.shape[0]), fitted.shape[1]
        cell[:h, (width - w) // 2:(width - w) // 2 + w] = fitted[:h]
        cells.append(cell)
    while len(cells) % columns:
        cells.append(np.full((THUMB, width, 3), 255, np.uint8))
    rows = [np.hstack(cells[r:r + columns]) for r in range(0, len(cells), columns)]
    return np.vstack(rows)


def _spread(items: list[int], count: int) -> list[int]:
    """``count`` of ``items`` (all when fewer), evenly spaced."""
    if count <= 0 or not items:
        return []
    step = max(1, len(items) // count)
    return items[::step][:count]


def summarise(outcomes: list[Outcome]) -> dict[str, dict[str, float | int]]:
    by_source: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_source[outcome.source].append(outcome)
    table: dict[str, dict[str, float | int]] = {}
    for source, items in [*sorted(by_source.items()), ("all", outcomes)]:
        located = [o for o in items if o.hand_box is not None]  # what the product screens
        hits = sum(o.inside for o in located)
        on_hand = sum(o.on_hand for o in located)
        table[source] = {"images": len(items), "unreadable": sum(o.verdict == "unreadable" for o in items),
                         "gate_rejected": sum(o.verdict == "rejected" for o in items),
                         "hand_located": len(located), "peak_inside_hand": hits,
                         "flat_heatmap": sum(o.peak is None for o in located),
                         "share": round(hits / len(located), 4) if located else 0.0,
                         "peak_on_hand": on_hand,
                         "share_on_hand": round(on_hand / len(located), 4) if located else 0.0}
    return table


@click.command()
@click.option("--bundle", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=PROJECT_ROOT / "models" / "demo", show_default=True, help="Risk-model bundle.")
@click.option("--input", "mode", type=click.Choice(list(INPUTS)), default="square", show_default=True,
              help="What the model reads: the pipeline's square crop, or an earlier pipeline's input.")
@click.option("--development", is_flag=True,
              help="Development data only (xray-samples): leave the hold-out out while working on a change.")
@click.option("--shared", type=click.Path(file_okay=False, path_type=Path), default=SHARED, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a contact sheet here (.jpg keeps it small enough for docs/).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write per-image outcomes and the table as JSON here.")
def main(bundle: Path, mode: str, development: bool, shared: Path, out: Path | None,
         json_out: Path | None) -> None:
    """Print, per source, the share of real hands whose Grad-CAM peak lies inside the located hand."""
    if not shared.is_dir():
        raise click.ClickException(f"{shared} not found: the real radiographs live in ../shared")
    files = real_hands(shared, holdout=not development)
    outcomes, tiles = evaluate(files, bundle, mode)
    table = summarise(outcomes)
    click.echo(f"Grad-CAM peak inside the located hand, model {bundle}, input: {INPUTS[mode]}")
    click.echo(f"{'source':<22}{'images':>7}{'unreadable':>11}{'rejected':>9}{'located':>8}{'flat':>6}"
               f"{'inside':>7}{'share':>8}{'on hand':>8}{'share':>8}")
    for source, row in table.items():
        click.echo(f"{source:<22}{row['images']:>7}{row['unreadable']:>11}{row['gate_rejected']:>9}"
                   f"{row['hand_located']:>8}{row['flat_heatmap']:>6}{row['peak_inside_hand']:>7}"
                   f"{100 * row['share']:>7.1f}%{row['peak_on_hand']:>8}{100 * row['share_on_hand']:>7.1f}%")
    click.echo("share = peak inside the located hand (hand_box) / hands located (the images the product "
               "screens); on hand: the peak on the hand's tissue or bone; flat: Grad-CAM found no positive "
               "evidence (no peak, a miss)")
    click.echo(f"target: >= {100 * TARGET:.0f} % inside ({'met' if table['all']['share'] >= TARGET else 'NOT met'})")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out), contact_sheet(tiles, outcomes), [cv2.IMWRITE_JPEG_QUALITY, 80])
        click.echo(f"contact sheet: {out} (green: located hand; white outline: tissue; dot: Grad-CAM peak, "
                   "magenta on the hand, orange in the box off the hand, red outside the box)")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps({"table": table, "images": [asdict(o) for o in outcomes]}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
