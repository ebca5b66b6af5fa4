"""``osteo inspect``: the hand/wrist gate's verdict on files, folders and archives, without screening.

Radiographers run it on a folder or archive before uploading, to see which images will
be refused and why; benchmarks and tests use ``--json`` (one object per line).
Files are decoded exactly as ingest decodes them (:func:`screening.imaging.inspect_file`),
archive members are read through :func:`screening.archives.iter_archive`, so what this
command says is what a batch would do with the same files.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from screening.imaging.quality import inspect_file
from screening.input_files import iter_input_files

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inspected:
    """One file's line of output."""

    file: str
    verdict: str
    reason: str
    body_part: str | None
    score: float | None
    hand_box: list[int] | None
    gate_version: str
    quality: str | None  # the quality gate's status, None when the file could not be decoded
    quality_reason: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def inspect_one(name: str, data: bytes | None, why_not: str, gate: Any) -> Inspected:
    """Decode one file like ingest does and ask the gate; never raises for bad input."""
    if data is None:
        return Inspected(name, "rejected", why_not, None, None, None, gate.gate_version, None, "")
    decoded, quality = inspect_file(data, name.rsplit("/", 1)[-1])
    if decoded is None:
        return Inspected(name, "rejected", quality.reason, None, None, None, gate.gate_version, None, "")
    verdict = gate.judge(decoded.pixels)
    return Inspected(
        file=name,
        verdict=verdict.verdict,
        reason=verdict.reason,
        body_part=verdict.body_part,
        score=round(verdict.score, 4),
        hand_box=list(verdict.hand_box) if verdict.hand_box else None,
        gate_version=verdict.gate_version,
        quality=quality.status,
        quality_reason=quality.reason,
    )


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file and line.")
@click.option(
    "--gate",
    "bundle",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Gate bundle folder (default: the shipped models/gate).",
)
def inspect(paths: tuple[Path, ...], as_json: bool, bundle: Path | None) -> None:
    """Say, for each image in PATHS (files, folders, zip/tar archives), whether the
    hand/wrist gate would accept it for screening, and why. Nothing is screened or stored."""
    from screening.anatomy.gate import load_gate

    gate = load_gate(bundle)
    counts: Counter[str] = Counter()
    rows: list[Inspected] = []
    for name, data, why_not in iter_input_files(paths):
        result = inspect_one(name, data, why_not, gate)
        counts[result.verdict] += 1
        if as_json:
            click.echo(json.dumps(result.to_dict()))
        else:
            rows.append(result)
    if not as_json:
        _print_table(rows)
        total = sum(counts.values())
        click.echo(
            f"{total} file{'s' if total != 1 else ''}: {counts['accepted']} accepted, "
            f"{counts['warning']} with a warning, {counts['rejected']} rejected ({gate.gate_version})"
        )


def _print_table(rows: list[Inspected]) -> None:
    width = min(60, max([4, *(len(row.file) for row in rows)]))
    click.echo(f"{'file':<{width}}  {'verdict':<8}  {'score':>5}  {'hand box':<21}  reason")
    for row in rows:
        name = row.file if len(row.file) <= width else "..." + row.file[-(width - 3) :]
        score = "" if row.score is None else f"{row.score:.2f}"
        box = "" if row.hand_box is None else ",".join(str(v) for v in row.hand_box)
        click.echo(f"{name:<{width}}  {row.verdict:<8}  {score:>5}  {box:<21}  {row.reason}")
