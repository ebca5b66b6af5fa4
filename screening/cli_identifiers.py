"""``osteo identifiers``: the key that encrypts the identifiers kept (OSTEO_IDENTIFIER_KEY), and its rotation.

See docs/operations.md ("Rotate the identifier key") for the order of steps.
"""

from __future__ import annotations

import click

from screening.accounts import audit
from screening.config import load_settings
from screening.db import DatabaseUnavailable, session_scope
from screening.identity import new_key, rotate_all
from screening.sealing import Sealer


@click.group()
def identifiers() -> None:
    """Encryption of the identifiers kept: hospitals' own patient ids, DICOM sources (OSTEO_IDENTIFIER_KEY)."""


@identifiers.command("new-key")
def identifiers_new_key() -> None:
    """Print a new random secret to put first in OSTEO_IDENTIFIER_KEY."""
    click.echo(new_key())


@identifiers.command("rotate")
def identifiers_rotate() -> None:
    """Re-encrypt every stored identifier with the first secret of OSTEO_IDENTIFIER_KEY.

    Run it after putting a new secret first (the old one still listed after it, comma-separated);
    once it reports nothing unreadable, the old secret can be removed from the setting.
    """
    settings = load_settings()
    sealer = Sealer.from_settings(settings)
    try:
        with session_scope(settings.database_url) as session:
            counts = rotate_all(session, sealer)
            audit(session, "identifiers.rotate", rotated={table: done for table, (done, _) in counts.items()},
                  unreadable=sum(unreadable for _, unreadable in counts.values()))
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    for table, (rotated, _) in counts.items():
        click.echo(f"{table}: re-encrypted {rotated} with the newest key")
    unreadable = sum(count for _, count in counts.values())
    if unreadable:
        raise click.ClickException(f"{unreadable} identifiers could not be decrypted with any configured key: "
                                   "put back the key they were written with and run this again")
