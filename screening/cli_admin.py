"""Administrative commands: schema, hospitals, users, tokens, first-time set-up."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.accounts import AccountError, add_hospital, add_user, audit, create_token, get_user, revoke_token
from screening.config import Settings, load_settings
from screening.db import DatabaseUnavailable, Hospital, Role, User, schema, session_scope


@contextmanager
def _session() -> Iterator[tuple[Settings, Session]]:
    """A committed-on-success session; domain errors become one-line CLI errors."""
    settings = load_settings()
    try:
        with session_scope(settings.database_url) as session:
            yield settings, session
    except (AccountError, DatabaseUnavailable) as exc:
        raise click.ClickException(str(exc)) from None


def _upgrade(settings: Settings) -> None:
    try:
        schema.upgrade(settings.database_url)
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations (safe to run repeatedly)."""
    settings = load_settings()
    _upgrade(settings)
    click.echo(f"database at revision {schema.current_revision(settings.database_url)}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    settings = load_settings()
    click.echo(schema.current_revision(settings.database_url) or "empty (run: osteo db upgrade)")


@click.group()
def hospital() -> None:
    """Hospitals that upload X-ray batches."""


@hospital.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Full name shown on reports and dashboards.")
@click.option("--district", required=True)
@click.option("--region", required=True)
def hospital_add(code: str, name: str, district: str, region: str) -> None:
    """Register hospital CODE (e.g. DH-NORTH)."""
    with _session() as (_, session):
        created = add_hospital(session, code, name, district, region)
        audit(session, "hospital.add", target_type="hospital", target_id=created.code)
        click.echo(f"hospital {created.code} added ({created.name}, {created.district}, {created.region})")


@hospital.command("list")
def hospital_list() -> None:
    """List hospitals."""
    with _session() as (_, session):
        for h in session.scalars(select(Hospital).order_by(Hospital.code)):
            click.echo(f"{h.code:<16} {h.name:<40} {h.district} / {h.region}")


@click.group()
def user() -> None:
    """People who use the dashboard or the API."""


@user.command("add")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True,
              help="staff: one hospital; official: a district or region; admin: everything.")
@click.option("--hospital", "hospital_code", help="Hospital code (required for staff).")
@click.option("--district", help="District an official oversees.")
@click.option("--region", help="Region an official oversees.")
@click.option("--name", default="")
@click.option("--password", help="Dashboard password (prompted when omitted; empty for API-only users).")
def user_add(email: str, role: str, hospital_code: str | None, district: str | None,
             region: str | None, name: str, password: str | None) -> None:
    """Add user EMAIL."""
    if password is None:
        password = click.prompt("Password (empty for API-only)", default="", hide_input=True,
                                show_default=False) or None
    with _session() as (_, session):
        created = add_user(session, email, Role(role), password=password, name=name,
                           hospital_code=hospital_code, district=district, region=region)
        audit(session, "user.add", target_type="user", target_id=created.email, role=role)
        click.echo(f"user {created.email} added as {role}")


@user.command("list")
def user_list() -> None:
    """List users and their scope."""
    with _session() as (_, session):
        for u in session.scalars(select(User).order_by(User.email)):
            scope = u.hospital.code if u.hospital else (u.district or u.region or "all")
            click.echo(f"{u.email:<40} {u.role.value:<9} {scope}")


@click.group()
def token() -> None:
    """API tokens (shown once, stored hashed)."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="api", help="What the token is for.")
@click.option("--days", type=int, help="Expire after this many days (default: never).")
def token_create(email: str, name: str, days: int | None) -> None:
    """Create an API token for user EMAIL and print it once."""
    with _session() as (_, session):
        issued = create_token(session, get_user(session, email), name, days)
        audit(session, "token.create", target_type="token", target_id=issued.token.prefix)
    click.echo(issued.secret)
    click.echo("Store this token now: it cannot be shown again.", err=True)


@token.command("revoke")
@click.argument("prefix")
def token_revoke(prefix: str) -> None:
    """Revoke the token whose first characters are PREFIX (as shown by create)."""
    with _session() as (_, session):
        revoked = revoke_token(session, prefix)
        audit(session, "token.revoke", target_type="token", target_id=revoked.prefix)
    click.echo(f"token {prefix} revoked")


@click.command()
def init() -> None:
    """Create the database schema and the object store, then say what to do next."""
    from screening.storage import StorageError, open_store

    settings = load_settings()
    _upgrade(settings)
    store = open_store(settings)
    ensure = getattr(store, "ensure_bucket", None)
    try:
        if ensure is not None:
            ensure()
    except StorageError as exc:
        raise click.ClickException(f"object store: {exc}") from None
    click.echo(f"database:     {settings.database_url} (revision {schema.current_revision(settings.database_url)})")
    click.echo(f"object store: {settings.storage_backend} "
               f"{settings.storage_dir if settings.storage_backend == 'local' else settings.s3_bucket}")
    click.echo("next: osteo hospital add CODE --name ... --district ... --region ...")
