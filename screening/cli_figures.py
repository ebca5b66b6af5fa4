"""``osteo figures rebuild``: recompute the figures by people from the screenings and referrals.

Run it once after upgrading to the release that added them (the tables start empty), or
to repair them; batches finishing and referrals changing keep them up to date otherwise.
"""

from __future__ import annotations

import click

from screening.config import load_settings
from screening.db import DatabaseUnavailable, session_scope
from screening.followup.rollups import rebuild


@click.group()
def figures() -> None:
    """Figures by people (officials' overview and /api/v1/summary)."""


@figures.command("rebuild")
def figures_rebuild() -> None:
    """Recompute every figure table (people screened, referrals, DXA waits) from the rows they count."""
    settings = load_settings()
    try:
        with session_scope(settings.database_url) as session:
            counts = rebuild(session)
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    for name, count in counts.items():
        click.echo(f"{name}: {count} rows")
