"""``osteo screen``: one archive through the whole pipeline on this machine.

Exits 1 when the batch failed or needs attention (nothing in it could be screened).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from screening.accounts import AccountError, get_hospital
from screening.config import Settings, load_settings
from screening.db.models import Batch, BatchStatus
from screening.db.session import session_scope
from screening.local_runner import LocalRunner
from screening.pipeline import EmptyUpload
from screening.storage import LocalObjectStore, ObjectStore, open_store
from screening.vocabulary import DISCLAIMER

# `osteo screen` exits 1 on these, so scripts notice a batch that needs a person.
UNSUCCESSFUL = (BatchStatus.FAILED, BatchStatus.NEEDS_ATTENTION)


class StageProgress:
    """One progress bar per stage, fed from the batch's counters."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self._bars: dict[str, Any] = {}

    def __call__(self, batch: Batch) -> None:
        self._update("screened", batch.screened + batch.failed, batch.accepted)
        if batch.reports_total:
            self._update("reported", batch.reported, batch.reports_total)

    def _update(self, stage: str, done: int, total: int) -> None:
        bar = self._bars.get(stage)
        if bar is None:
            unit = "img" if stage == "screened" else "pt"
            bar = self._bars[stage] = self._tqdm(total=total, desc=f"{stage:>9}", unit=unit)
        bar.total = total
        bar.n = done
        bar.refresh()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


@click.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--hospital", "hospital_code", required=True, help="Code of the uploading hospital.")
@click.option("--no-reports", is_flag=True, help="Skip per-patient reports (screening only).")
def screen(archive: Path, hospital_code: str, no_reports: bool) -> None:
    """Screen ARCHIVE (zip/tar of PNG, JPEG or DICOM + manifest.csv) on this machine."""
    settings = load_settings()
    store = open_store(settings)
    runner = LocalRunner(settings, store, _predictor_loader(settings), reports=not no_reports)
    try:
        with session_scope(settings.database_url) as session:
            hospital = get_hospital(session, hospital_code)
    except AccountError as exc:
        raise click.ClickException(f"{exc} (add it with: osteo hospital add)") from None
    try:
        batch_id = runner.submit(hospital, archive)
    except EmptyUpload as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"batch {batch_id}: ingesting {archive.name}")
    progress = StageProgress()
    try:
        batch = runner.run(batch_id, progress)
    finally:
        progress.close()
    print_outcome(settings, store, batch)
    if batch.status in UNSUCCESSFUL:
        raise SystemExit(1)


def _predictor_loader(settings: Settings):  # type: ignore[no-untyped-def]
    from screening.model_registry import load_active_predictor

    return lambda: load_active_predictor(settings)


def print_outcome(settings: Settings, store: ObjectStore, batch: Batch) -> None:
    click.echo(f"status:   {batch.status.value}")
    click.echo(f"files:    {batch.files_total} ({batch.accepted} accepted, {batch.rejected} rejected, "
               f"{batch.duplicates} duplicates, {batch.not_eligible} not eligible)")
    if batch.not_eligible:
        click.echo(f"not eligible: {batch.not_eligible} image{'s' if batch.not_eligible != 1 else ''} of patients "
                   "outside the screening population (no class, no referral); the batch page says why")
    click.echo(f"screened: {batch.screened}, failed: {batch.failed}, reports: {batch.reported}")
    click.echo(f"model:    {batch.model_version_id}")
    def where(key: str) -> str:
        return str(store.local_path(key)) if isinstance(store, LocalObjectStore) else f"s3://{settings.s3_bucket}/{key}"

    click.echo(f"reports:  {where('reports')}/")
    if batch.summary_key:
        click.echo(f"summary:  {where(batch.summary_key)}")
    if batch.error:
        click.echo("problems:\n  " + batch.error.replace("\n", "\n  "))
    click.echo(DISCLAIMER)
