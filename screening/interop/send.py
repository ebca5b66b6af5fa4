"""Sending DICOM objects to a destination: C-STORE (pynetdicom) or STOW-RS (DICOMweb over HTTP).

One call sends every object of a delivery over one association or one HTTP request.
Anything that stops it (refused, unreachable, timed out, rejected, a failure status)
raises :class:`DeliveryError` with a reason for the batch page: the destination's
address and what went wrong, never a patient identifier or a dataset. Timeouts come
from ``OSTEO_DICOM_TIMEOUT_SECONDS`` so a destination that drops packets cannot
hold a worker for long.
"""

from __future__ import annotations

import io
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE

from screening.db.models import DestinationKind

# pynetdicom logs association details at INFO and whole datasets at DEBUG: keep identifiers out of logs.
logging.getLogger("pynetdicom").setLevel(logging.WARNING)
logger = logging.getLogger(__name__)

# C-STORE statuses that mean stored (success, and the coercion/elements warnings of PS3.4 B.2.3).
STORED = {0x0000, 0xB000, 0xB006, 0xB007}


class DeliveryError(Exception):
    """The destination did not take the objects; ``str()`` is the reason shown to staff."""


@dataclass(frozen=True)
class Target:
    """Where to send (the values of a ``dicom_destinations`` row)."""

    kind: DestinationKind
    host: str | None = None
    port: int | None = None
    ae_title: str | None = None
    url: str | None = None

    @property
    def address(self) -> str:
        return f"{self.ae_title}@{self.host}:{self.port}" if self.kind is DestinationKind.DIMSE else self.url or ""


def send(target: Target, datasets: Sequence[Dataset], calling_ae_title: str, timeout: float) -> int:
    """Send every dataset; returns how many were stored, or raises :class:`DeliveryError`."""
    if not datasets:
        return 0
    if target.kind is DestinationKind.DIMSE:
        return _c_store(target, datasets, calling_ae_title, timeout)
    return _stow(target, datasets, timeout)


def _c_store(target: Target, datasets: Sequence[Dataset], calling_ae_title: str, timeout: float) -> int:
    ae = AE(ae_title=calling_ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = ae.connection_timeout = timeout
    for sop_class in sorted({str(ds.SOPClassUID) for ds in datasets}):
        ae.add_requested_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    where = f"C-STORE to {target.address}"
    assoc = ae.associate(target.host or "", int(target.port or 0), ae_title=target.ae_title or "ANY-SCP")
    if not assoc.is_established:
        if assoc.is_rejected:
            raise DeliveryError(f"{where}: the association was rejected (check the AE titles)")
        raise DeliveryError(f"{where}: no association (refused, unreachable or no answer)")
    try:
        for number, dataset in enumerate(datasets, start=1):
            status = assoc.send_c_store(dataset)
            code = int(status.Status) if status and "Status" in status else None
            if code not in STORED:
                shown = "no answer" if code is None else f"status 0x{code:04X}"
                raise DeliveryError(f"{where}: object {number} of {len(datasets)} not stored ({shown})")
    finally:
        if assoc.is_established:
            assoc.release()
    return len(datasets)


def _stow(target: Target, datasets: Sequence[Dataset], timeout: float) -> int:
    """POST every object as one multipart/related request to ``{url}/studies`` (PS3.18 10.5)."""
    boundary = f"osteo-{uuid.uuid4().hex}"
    body = io.BytesIO()
    for dataset in datasets:
        part = io.BytesIO()
        dataset.save_as(part, enforce_file_format=True)
        body.write(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode())
        body.write(part.getvalue())
        body.write(b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    url = (target.url or "").rstrip("/") + "/studies"
    request = urllib.request.Request(url, data=body.getvalue(), method="POST", headers={
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
        "Accept": "application/dicom+json"})
    where = f"STOW-RS to {target.url}"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{where}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{where}: {getattr(exc, 'reason', exc)}") from None
    if status != 200:
        raise DeliveryError(f"{where}: HTTP {status} (some objects were not stored)")
    return len(datasets)
