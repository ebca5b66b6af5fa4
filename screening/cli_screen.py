"""``osteo screen``: an archive, a folder or one image through the whole pipeline on this machine.

A folder or a single image is wrapped into an archive first
(:mod:`screening.wrap_upload`), so all three run the same batch pipeline. Exits 1
when the batch failed or needs attention (nothing in it could be screened).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO, Any

import click

from screening.accounts import AccountError, get_hospital
from screening.config import Settings, load_settings
from screening.db.models import Batch, BatchStatus, Hospital
from screening.db.session import session_scope
from screening.imaging.decode import sniff_format
from screening.local_runner import LocalRunner
from screening.pipeline import EmptyUpload
from screening.storage import LocalObjectStore, ObjectStore, open_store
from screening.vocabulary import DISCLAIMER
from screening.wrap_upload import StudyFields, StudyFieldsError, folder_archive, single_image_archive

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
@click.argument("source", metavar="PATH", type=click.Path(exists=True, path_type=Path))
@click.option("--hospital", "hospital_code", required=True, help="Code of the uploading hospital.")
@click.option("--age", "age_years", type=click.FloatRange(0, 130), help="Age in years (a single image without tags).")
@click.option("--sex", type=click.Choice(["F", "M"], case_sensitive=False), help="Sex (a single image without tags).")
@click.option("--patient-id", help="The hospital's patient id for a single image (kept only as a pseudonym).")
@click.option("--no-reports", is_flag=True, help="Skip per-patient reports (screening only).")
def screen(source: Path, hospital_code: str, age_years: float | None, sex: str | None, patient_id: str | None,
           no_reports: bool) -> None:
    """Screen PATH on this machine: an archive (zip/tar of PNG, JPEG, WebP, TIFF or DICOM + manifest.csv),
    a folder of such files (with its manifest.csv, or DICOM tags), or one image
    (with --age and --sex unless its DICOM tags give them).
    """
    settings = load_settings()
    store = open_store(settings)
    runner = LocalRunner(settings, store, _predictor_loader(settings), reports=not no_reports)
    try:
        with session_scope(settings.database_url) as session:
            hospital = get_hospital(session, hospital_code)
    except AccountError as exc:
        raise click.ClickException(f"{exc} (add it with: osteo hospital add)") from None
    fields = StudyFields(patient_id=patient_id, age_years=None if age_years is None else f"{age_years:g}", sex=sex)
    try:
        batch_id = _submit(runner, hospital, source, fields)
    except (EmptyUpload, StudyFieldsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"batch {batch_id}: ingesting {source.name}")
    progress = StageProgress()
    try:
        batch = runner.run(batch_id, progress)
    finally:
        progress.close()
    print_outcome(settings, store, batch)
    if batch.status in UNSUCCESSFUL:
        raise SystemExit(1)


def _submit(runner: LocalRunner, hospital: Hospital, source: Path, fields: StudyFields) -> str:
    """Submit an archive as it is; a folder or a single image wrapped into one first."""
    given = any((fields.age_years, fields.sex, fields.patient_id))
    if source.is_dir():
        if given:
            raise click.UsageError("--age, --sex and --patient-id are for a single image; a folder takes "
                                   "its manifest.csv or the DICOM tags")
        return _submit_wrapped(runner, hospital, source.name, lambda target: folder_archive(source, target))
    with source.open("rb") as stream:
        is_image = sniff_format(stream.read(512)) is not None
    if not is_image:
        if given:
            raise click.UsageError("--age, --sex and --patient-id are for a single image; an archive takes "
                                   "its manifest.csv or the DICOM tags")
        return runner.submit(hospital, source)

    def wrap(target: IO[bytes]) -> None:
        with source.open("rb") as image:
            single_image_archive(image, source.name, fields, target)

    return _submit_wrapped(runner, hospital, source.name, wrap)


def _submit_wrapped(runner: LocalRunner, hospital: Hospital, name: str, write: Any) -> str:
    with tempfile.TemporaryFile(prefix="osteo-screen-") as archive:
        write(archive)
        archive.seek(0)
        return runner.submit_stream(hospital, archive, name)


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
