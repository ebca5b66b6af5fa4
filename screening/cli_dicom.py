"""``osteo dicom``: which AE titles belong to which hospital, and where each hospital's results go."""

from __future__ import annotations

import click
from sqlalchemy import select

from screening.accounts import audit, get_hospital
from screening.cli_admin import _session
from screening.db.models import DicomAeTitle, DicomDestination, Hospital
from screening.interop import nodes


@click.group()
def dicom() -> None:
    """Hospital systems: calling AE titles and result destinations."""


@dicom.command("ae-add")
@click.argument("hospital_code")
@click.argument("ae_title")
def ae_add(hospital_code: str, ae_title: str) -> None:
    """Accept studies from AE_TITLE (a PACS or modality) as HOSPITAL_CODE's."""
    with _session() as (_, session):
        row = nodes.add_ae_title(session, get_hospital(session, hospital_code), ae_title)
        audit(session, "dicom.ae.add", target_type="ae_title", target_id=row.ae_title, hospital=hospital_code)
        click.echo(f"AE title {row.ae_title} -> hospital {hospital_code.upper()}")


@dicom.command("ae-remove")
@click.argument("ae_title")
def ae_remove(ae_title: str) -> None:
    """Stop accepting studies from AE_TITLE."""
    with _session() as (_, session):
        nodes.remove_ae_title(session, ae_title)
        audit(session, "dicom.ae.remove", target_type="ae_title", target_id=ae_title)
        click.echo(f"AE title {ae_title} removed")


@dicom.command("destination-add")
@click.argument("hospital_code")
@click.argument("name")
@click.option("--host", help="C-STORE: the destination's host name or address.")
@click.option("--port", type=int, help="C-STORE: its DICOM port.")
@click.option("--ae-title", help="C-STORE: its (called) AE title.")
@click.option("--url", help="STOW-RS: the DICOMweb base URL (POST {url}/studies).")
def destination_add(hospital_code: str, name: str, host: str | None, port: int | None, ae_title: str | None,
                    url: str | None) -> None:
    """Send HOSPITAL_CODE's results to a destination called NAME."""
    with _session() as (_, session):
        destination = nodes.add_destination(session, get_hospital(session, hospital_code), name, host=host,
                                            port=port, ae_title=ae_title, url=url)
        audit(session, "dicom.destination.add", target_type="destination", target_id=str(destination.id),
              hospital=hospital_code, kind=destination.kind.value)
        click.echo(f"destination {name} ({destination.kind.value} {destination.address}) for {hospital_code.upper()}")


@dicom.command("destination-disable")
@click.argument("hospital_code")
@click.argument("name")
def destination_disable(hospital_code: str, name: str) -> None:
    """Stop sending new results to destination NAME (deliveries already made are kept)."""
    with _session() as (_, session):
        destination = nodes.set_destination_active(session, get_hospital(session, hospital_code), name, False)
        audit(session, "dicom.destination.disable", target_type="destination", target_id=str(destination.id))
        click.echo(f"destination {name} disabled")


@dicom.command("list")
def dicom_list() -> None:
    """AE titles and destinations, per hospital."""
    with _session() as (_, session):
        for hospital in session.scalars(select(Hospital).order_by(Hospital.code)):
            titles = session.scalars(select(DicomAeTitle.ae_title).where(DicomAeTitle.hospital_id == hospital.id)
                                     .order_by(DicomAeTitle.ae_title)).all()
            destinations = session.scalars(select(DicomDestination).where(DicomDestination.hospital_id == hospital.id)
                                           .order_by(DicomDestination.name)).all()
            if titles or destinations:
                click.echo(f"{hospital.code}: AE titles {', '.join(titles) or '-'}")
                for d in destinations:
                    click.echo(f"  -> {d.name}: {d.kind.value} {d.address}{'' if d.active else ' (disabled)'}")


@dicom.command("listen")
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, help="DICOM port (default: OSTEO_DICOM_PORT).")
def listen(host: str, port: int | None) -> None:
    """Run the DICOM listener (C-STORE SCP) until stopped; studies go to the pipeline when stable."""
    import signal
    import threading

    from screening.config import load_settings
    from screening.interop.listener import Listener
    from screening.storage import open_store
    from worker.app import create_app
    from worker.routing import publisher

    settings = load_settings()
    listener = Listener(settings, open_store(settings), publisher(create_app(settings)))
    done = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: done.set())
    listener.start(host, port)
    click.echo(f"DICOM listener {settings.dicom_ae_title} on {host}:{port or settings.dicom_port} "
               f"(studies are screened {settings.dicom_stable_seconds} s after their last instance)")
    done.wait()
    listener.stop()
