"""``osteo export-training``: the program's DXA-confirmed images as a training manifest.

    osteo export-training var/dxa-labelled --user officer@example.org [--hospital DH-NORTH] [--from 2024-01-01]
    osteo train var/dxa-labelled/manifest.csv --out models/ours
    osteo evaluate-candidate models/ours --manifest var/dxa-labelled/manifest.csv

The caller names who they are (``--user``): the export holds the hospitals that user
may see (staff: their hospital; officials: their district or region; admins: all),
and is audited under their name.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from screening.accounts import AccountError, audit, get_user, visible_hospital_ids
from screening.config import load_settings
from screening.db import DatabaseUnavailable, session_scope
from screening.followup.export import export_training
from screening.storage import open_store

MIN_PER_CLASS = 5  # what `osteo train` needs of each class for its patient split


@click.command("export-training")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--user", "email", required=True, help="E-mail of the user whose hospitals are exported (audited).")
@click.option("--hospital", "hospitals", multiple=True, help="Only these hospital codes (repeatable).")
@click.option("--from", "dxa_from", type=click.DateTime(["%Y-%m-%d"]), help="DXA on or after this date.")
@click.option("--to", "dxa_to", type=click.DateTime(["%Y-%m-%d"]), help="DXA on or before this date.")
def export_training_command(out: Path, email: str, hospitals: tuple[str, ...], dxa_from: object,
                            dxa_to: object) -> None:
    """Write OUT/manifest.csv and OUT/images/ from every referral with a DXA result the user may see."""
    if (out / "manifest.csv").exists():
        raise click.ClickException(f"{out}/manifest.csv exists already: choose an empty folder")
    settings = load_settings()
    start = dxa_from.date() if dxa_from is not None else None  # type: ignore[attr-defined]
    end = dxa_to.date() if dxa_to is not None else None  # type: ignore[attr-defined]
    try:
        with session_scope(settings.database_url) as session:
            user = get_user(session, email)
            scope = visible_hospital_ids(session, user)
            summary = export_training(session, open_store(settings), scope, out, list(hospitals) or None,
                                      start, end)
            audit(session, "training.export", user_id=user.id, images=summary.images, patients=summary.patients,
                  hospitals=sorted(hospitals), dxa_from=_iso(start), dxa_to=_iso(end))
    except (AccountError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
    classes = ", ".join(f"{name} {summary.classes.get(name, 0)}" for name in ("normal", "osteopenia", "osteoporosis"))
    click.echo(f"{summary.images} images of {summary.patients} people ({summary.referrals} DXA-confirmed "
               f"referrals): {classes}")
    for reason, count in sorted(summary.skipped.items()):
        click.echo(f"left out: {count} images ({reason})")
    click.echo(f"manifest: {out / 'manifest.csv'}")
    thin = [name for name in ("normal", "osteopenia", "osteoporosis") if summary.classes.get(name, 0) < MIN_PER_CLASS]
    if thin:
        click.echo(f"note: {', '.join(thin)} ha{'s' if len(thin) == 1 else 've'} fewer than {MIN_PER_CLASS} images; "
                   "`osteo train` needs more of each class (evaluate-candidate works with any)")


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
