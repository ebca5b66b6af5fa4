"""``osteo model``: add a trained bundle to the object store, list versions, promote one to active.

    osteo model add models/ours                 # checked, uploaded to models/<version>/, registered inactive
    osteo model list
    osteo model promote fusion-compact-1a2b3c4d5e6f --user admin@example.org --reason "better on our DXA cases"

Promotion is audited under the named admin; new batches are screened with the promoted
model (workers fetch it from the object store), batches already screened keep theirs.
"""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from screening.accounts import AccountError, get_user
from screening.config import load_settings
from screening.db import DatabaseUnavailable, ModelVersion, Role, session_scope
from screening.model_registry import add_bundle, promote
from screening.storage import open_store


@click.group()
def model() -> None:
    """Model versions: add a bundle, list, promote."""


@model.command("add")
@click.argument("bundle", type=click.Path(exists=True, file_okay=False, path_type=Path))
def model_add(bundle: Path) -> None:
    """Check BUNDLE (a directory), upload it to the object store and register it (inactive)."""
    from screening.model import BundleError

    settings = load_settings()
    try:
        with session_scope(settings.database_url) as session:
            row = add_bundle(session, open_store(settings), bundle)
            click.echo(f"added {row.name} {row.id} ({'active' if row.active else 'inactive'}) at {row.bundle_key}")
    except (BundleError, ValueError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from None


@model.command("list")
def model_list() -> None:
    """Every registered model version, newest first."""
    settings = load_settings()
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(ModelVersion).order_by(ModelVersion.created_at.desc())).all()
        for row in rows:
            where = row.bundle_key or "not in the object store"
            click.echo(f"{'*' if row.active else ' '} {row.id}  {row.name}  {where}")


@model.command("promote")
@click.argument("version")
@click.option("--user", "email", required=True, help="The admin who promotes (audited).")
@click.option("--reason", default="", help="Why (kept in the audit trail).")
def model_promote(version: str, email: str, reason: str) -> None:
    """Make VERSION the active model for new batches."""
    settings = load_settings()
    try:
        with session_scope(settings.database_url) as session:
            user = get_user(session, email)
            if user.role is not Role.ADMIN:
                raise click.ClickException(f"{email} is not an admin; only admins promote models")
            row = promote(session, version, user.id, reason)
            if row.bundle_key is None:
                click.echo("warning: this version is not in the object store; only workers whose own bundle "
                           "it is can screen with it (osteo model add)")
            click.echo(f"{row.name} {row.id} is now active for new batches")
    except (AccountError, LookupError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from None
