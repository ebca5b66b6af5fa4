"""Evaluate the hand/wrist gate per body part; write the tables and contact sheet in docs/.

    python -m training.gate_eval                       # hold-out + xray-samples, prints tables
    python -m training.gate_eval --write-docs          # also docs/intended-use.md tables + contact sheet

Files are decoded as ingest decodes them (:func:`screening.imaging.inspect_file`).
A file the product cannot read counts as rejected in the end-to-end figures, and the
gate's own verdict on its pixels, when Pillow can open it at all, is reported beside it,
so that neither number hides the other. ``../shared/xray-holdout`` is read here only, never in training; run this
once the gate is final, not to tune it.

The last line printed is a JSON summary.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

from screening.anatomy.gate import GateVerdict, HandGate, load_gate
from screening.imaging.quality import inspect_file
from training.gate_data import sample_examples

logger = logging.getLogger(__name__)

DOC = Path("docs/intended-use.md")
SHEET = Path("docs/gate-contact-sheet.png")
BEGIN, END = "<!-- gate-eval:begin -->", "<!-- gate-eval:end -->"
# Hold-out datasets whose licence (CC BY 4.0) allows thumbnails in the repository's docs.
SHEET_DATASETS = ("FracAtlas", "GRAZPEDWRI-DX")
_SAMPLE_GROUPS = {"rsna": "RSNA hand", "grazpedwri": "GRAZPEDWRI wrist", "knee": "knee (Roboflow)"}
_DICOM_GROUPS = {"RG1": "CR chest", "RG2": "CR hip", "RG3": "CR tibia/ankle", "ort": "CR chest"}


@dataclass(frozen=True)
class Judged:
    """One file: its group, what was expected, what the product and the gate said."""

    file: Path
    group: str
    expected: str  # accept | reject | borderline
    product: str  # the end-to-end verdict (decode + gate)
    gate: GateVerdict | None  # None when not even Pillow can open it
    unreadable: str  # the decoder's reason when the product cannot read the file
    pixels: np.ndarray | None


def judge_file(path: Path, gate: HandGate) -> tuple[str, GateVerdict | None, str, np.ndarray | None]:
    """(product verdict, gate verdict, decode failure reason, pixels) for one file."""
    decoded, quality = inspect_file(path.read_bytes(), path.name)
    if decoded is not None:
        verdict = gate.judge(decoded.pixels)
        return verdict.verdict, verdict, "", decoded.pixels
    pixels = _pillow_pixels(path)
    verdict = gate.judge(pixels) if pixels is not None else None
    return "rejected", verdict, quality.reason, pixels


def _pillow_pixels(path: Path) -> np.ndarray | None:
    """Gray pixels in [0, 1] of a file the product's decoder refuses, when Pillow opens it; else None."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(path.read_bytes())) as image:
            return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    except Exception:  # noqa: BLE001 - an evaluation reports unreadable files, never stops
        return None


def holdout_items(root: Path) -> list[tuple[Path, str, str]]:
    """(file, body part, expected gate) from the hold-out manifest."""
    with (root / "manifest.csv").open() as fh:
        return [(root / row["file"], _part(row["body_part"]), row["expected_gate"]) for row in csv.DictReader(fh)]


def _part(label: str) -> str:
    """The manifest's part names, without their parenthesised detail."""
    return re.sub(r"\s*\(.*\)", "", label).strip()


def samples_items(root: Path) -> list[tuple[Path, str, str]]:
    """(file, group, expected) for xray-samples; the group says which gate split the file is in."""
    items = []
    for example in sample_examples(root):
        if example.source == "cr-dicom":
            name = _DICOM_GROUPS[example.path.name[:3]]
        else:
            name = _SAMPLE_GROUPS[example.source]
        expected = "accept" if example.label == "hand_wrist" else "reject"
        items.append((example.path, f"{name} [{example.split}]", expected))
    return items


def evaluate(items: list[tuple[Path, str, str]], gate: HandGate) -> list[Judged]:
    results = []
    for path, group, expected in items:
        product, verdict, unreadable, pixels = judge_file(path, gate)
        results.append(Judged(path, group, expected, product, verdict, unreadable, pixels))
    return results


def table(results: list[Judged], title: str) -> tuple[list[str], dict]:
    """Markdown rows per group, and the summary figures."""
    groups: dict[tuple[str, str], list[Judged]] = defaultdict(list)
    for result in results:
        groups[(result.expected, result.group)].append(result)
    lines = [
        f"**{title}**",
        "",
        "| body part | expected | n | accepted | warning | rejected | as expected | gate on pixels* |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (expected, group), rows in sorted(groups.items()):
        counts = {v: sum(r.product == v for r in rows) for v in ("accepted", "warning", "rejected")}
        right = _as_expected(rows, lambda r: r.product)
        gate_right = _as_expected(rows, lambda r: r.gate.verdict if r.gate else "rejected")
        lines.append(
            f"| {group} | {expected} | {len(rows)} | {counts['accepted']} | {counts['warning']} | "
            f"{counts['rejected']} | {_rate(right, rows, expected)} | {_rate(gate_right, rows, expected)} |"
        )
    summary = {}
    for expected in ("accept", "reject"):
        rows = [r for r in results if r.expected == expected]
        if rows:
            summary[expected] = {
                "n": len(rows),
                "as_expected": _as_expected(rows, lambda r: r.product),
                "gate_on_pixels_as_expected": _as_expected(rows, lambda r: r.gate.verdict if r.gate else "rejected"),
            }
    return lines, summary


def _as_expected(rows: list[Judged], verdict_of) -> int:
    """Hands: accepted (a warning is not an acceptance). Others: rejected."""
    return sum(
        (verdict_of(r) == "accepted") if r.expected == "accept" else (verdict_of(r) == "rejected")
        for r in rows
        if r.expected != "borderline"
    )


def _rate(count: int, rows: list[Judged], expected: str) -> str:
    if expected == "borderline":
        return "n/a"
    return f"{count}/{len(rows)} ({count / len(rows):.0%})"


def borderline_lines(results: list[Judged]) -> list[str]:
    lines = ["| borderline file | verdict | P(hand) | reason |", "| --- | --- | ---: | --- |"]
    for result in results:
        if result.expected == "borderline" and result.gate:
            lines.append(f"| {result.file.name} | {result.product} | {result.gate.score:.2f} | {result.gate.reason} |")
    return lines


def miss_lines(results: list[Judged]) -> list[str]:
    """Every file on which the product's verdict is not the expected one."""
    lines = ["| file | expected | verdict | P(hand) | reason |", "| --- | --- | --- | ---: | --- |"]
    for r in results:
        if r.expected == "borderline" or _as_expected([r], lambda x: x.product) == 1:
            continue
        score = f"{r.gate.score:.2f}" if r.gate else ""
        reason = r.unreadable or (r.gate.reason if r.gate else "")
        lines.append(f"| {r.group}/{r.file.name} | {r.expected} | {r.product} | {score} | {reason} |")
    return lines


def contact_sheet(results: list[Judged], target: Path, tile: int = 150, columns: int = 8) -> int:
    """Thumbnails of hands with their located box (green accepted, orange warning, red rejected)."""
    import cv2

    chosen = [r for r in results if r.pixels is not None and r.expected == "accept"]
    rows = (len(chosen) + columns - 1) // columns
    sheet = np.full((rows * (tile + 14), columns * tile, 3), 255, np.uint8)
    colours = {"accepted": (40, 160, 40), "warning": (0, 140, 255), "rejected": (0, 0, 220)}
    for index, result in enumerate(chosen):
        pixels = result.pixels
        scale = tile / max(pixels.shape)
        size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
        thumb = cv2.cvtColor(
            cv2.resize((np.clip(pixels, 0, 1) * 255).astype(np.uint8), size, interpolation=cv2.INTER_AREA),
            cv2.COLOR_GRAY2BGR,
        )
        verdict = result.gate.verdict if result.gate else "rejected"
        if result.gate and result.gate.hand_box:
            x0, y0, x1, y1 = (round(v * scale) for v in result.gate.hand_box)
            cv2.rectangle(thumb, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), colours[verdict], 2)
        y, x = (index // columns) * (tile + 14), (index % columns) * tile
        sheet[y + 14 : y + 14 + thumb.shape[0], x : x + thumb.shape[1]] = thumb
        label = f"{verdict[:3]} {result.gate.score:.2f}" if result.gate else "unreadable"
        cv2.putText(sheet, label, (x + 3, y + 11), cv2.FONT_HERSHEY_SIMPLEX, 0.38, colours[verdict], 1)
    target.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(target), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return len(chosen)


def _sheet_rows(results: list[Judged], root: Path) -> list[Judged]:
    with (root / "manifest.csv").open() as fh:
        allowed = {row["file"] for row in csv.DictReader(fh) if row["dataset"] in SHEET_DATASETS}
    return [r for r in results if str(r.file.relative_to(root)) in allowed]


@click.command()
@click.option(
    "--shared", type=click.Path(file_okay=False, path_type=Path), default=Path("../shared"), show_default=True
)
@click.option("--gate", "bundle", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--write-docs", is_flag=True, help=f"Rewrite the tables in {DOC} and {SHEET}.")
@click.option("--samples-only", is_flag=True, help="Development: xray-samples only, the hold-out is not read.")
def main(shared: Path, bundle: Path | None, write_docs: bool, samples_only: bool) -> None:
    """Per-body-part accept/reject rates of the gate on the hold-out set and xray-samples."""
    gate = load_gate(bundle)
    samples = evaluate(samples_items(shared / "xray-samples"), gate)
    if samples_only:
        lines, summary = table(samples, "xray-samples")
        click.echo("\n".join([*lines, "", *miss_lines(samples)]))
        click.echo(json.dumps({"gate_version": gate.gate_version, "samples": summary}))
        return
    holdout_root = shared / "xray-holdout"
    holdout = evaluate(holdout_items(holdout_root), gate)
    holdout_table, holdout_summary = table(holdout, f"Hold-out (`../shared/xray-holdout`, {len(holdout)} files)")
    samples_table, samples_summary = table(
        samples, f"`../shared/xray-samples` ({len(samples)} files; [train]/[val]: the gate's split)"
    )
    lines = [
        (
            f"Gate `{gate.gate_version}`, thresholds accept >= {gate.accept_at}, warning >= {gate.warn_at}. "
            "Command: `python -m training.gate_eval --write-docs`."
        ),
        "",
        *holdout_table,
        "",
        "Borderline hold-out files, one by one:",
        "",
        *borderline_lines(holdout),
        "",
        "Hold-out files with an unexpected verdict:",
        "",
        *miss_lines(holdout),
        "",
        *samples_table,
        "",
        (
            "\\* *gate on pixels*: the gate's verdict when a file the product cannot read is opened with "
            "Pillow anyway; for every other file it equals the product's verdict. A warning counts as "
            "neither accepted nor rejected."
        ),
    ]
    for line in lines:
        click.echo(line)
    if write_docs:
        count = contact_sheet(_sheet_rows(holdout, holdout_root) + [r for r in samples if "GRAZ" in r.group], SHEET)
        lines += [
            "",
            f"![Located hands]({SHEET.name}) ({count} hold-out and sample hand/wrist films from CC BY 4.0 sets)",
        ]
        _replace_block(DOC, lines)
        click.echo(f"wrote {DOC} and {SHEET} ({SHEET.stat().st_size / 1e6:.2f} MB)")
    click.echo(json.dumps({"gate_version": gate.gate_version, "holdout": holdout_summary, "samples": samples_summary}))


def _replace_block(doc: Path, lines: list[str]) -> None:
    text = doc.read_text()
    start, stop = text.index(BEGIN) + len(BEGIN), text.index(END)
    doc.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[stop:])


if __name__ == "__main__":
    main()
