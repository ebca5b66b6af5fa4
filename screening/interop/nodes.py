"""A hospital's DICOM configuration: the AE titles its systems call from, where its results go.

Shared by ``osteo dicom`` and the admin pages. A calling AE title belongs to one
hospital (the listener files the studies it sends under it); destinations are a
DICOM node (host, port, called AE title: C-STORE) or a DICOMweb base URL (STOW-RS).
"""

from __future__ import annotations

from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.accounts import AccountError
from screening.db.models import DestinationKind, DicomAeTitle, DicomDestination, Hospital


def check_ae_title(title: str) -> str:
    """The AE title stripped; AccountError unless 1-16 printable ASCII characters without a backslash."""
    title = title.strip()
    if not 1 <= len(title) <= 16 or not title.isascii() or not title.isprintable() or "\\" in title:
        raise AccountError(f"an AE title is 1 to 16 printable ASCII characters, got {title!r}")
    return title


def add_ae_title(session: Session, hospital: Hospital, title: str) -> DicomAeTitle:
    title = check_ae_title(title)
    existing = session.get(DicomAeTitle, title)
    if existing is not None:
        raise AccountError(f"AE title {title} already belongs to hospital {existing.hospital.code}")
    row = DicomAeTitle(ae_title=title, hospital_id=hospital.id)
    session.add(row)
    session.flush()
    return row


def remove_ae_title(session: Session, title: str) -> None:
    row = session.get(DicomAeTitle, title.strip())
    if row is None:
        raise AccountError(f"no AE title {title!r}")
    session.delete(row)
    session.flush()


def hospital_for_ae_title(session: Session, title: str) -> Hospital | None:
    row = session.get(DicomAeTitle, title.strip())
    return row.hospital if row is not None else None


def add_destination(session: Session, hospital: Hospital, name: str, *, host: str | None = None,
                    port: int | None = None, ae_title: str | None = None, url: str | None = None) -> DicomDestination:
    """A C-STORE destination (host, port, ae_title) or a STOW-RS one (url), not both."""
    name = name.strip()
    if not 1 <= len(name) <= 64:
        raise AccountError("a destination needs a name of at most 64 characters")
    if session.scalar(select(DicomDestination).where(DicomDestination.hospital_id == hospital.id,
                                                     DicomDestination.name == name)):
        raise AccountError(f"hospital {hospital.code} already has a destination named {name!r}")
    if url and not (host or port or ae_title):
        parsed = urlparse(url.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.username or parsed.password:
            raise AccountError("a STOW-RS destination is an http(s) DICOMweb base URL without credentials")
        destination = DicomDestination(hospital_id=hospital.id, name=name, kind=DestinationKind.STOW,
                                       url=url.strip().rstrip("/"))
    elif host and port is not None and ae_title and not url:
        if not 1 <= port <= 65535:
            raise AccountError(f"a port is between 1 and 65535, got {port}")
        destination = DicomDestination(hospital_id=hospital.id, name=name, kind=DestinationKind.DIMSE,
                                       host=host.strip(), port=port, ae_title=check_ae_title(ae_title))
    else:
        raise AccountError("give either --host, --port and --ae-title (C-STORE) or --url (STOW-RS)")
    session.add(destination)
    session.flush()
    return destination


def set_destination_active(session: Session, hospital: Hospital, name: str, active: bool) -> DicomDestination:
    destination = session.scalar(select(DicomDestination).where(DicomDestination.hospital_id == hospital.id,
                                                                DicomDestination.name == name.strip()))
    if destination is None:
        raise AccountError(f"hospital {hospital.code} has no destination named {name!r}")
    destination.active = active
    return destination
