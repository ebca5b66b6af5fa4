"""The DICOM listener: a C-STORE SCP that PACS and modalities send hand studies to.

Each association's calling AE title must be mapped to a hospital (admin pages or
``osteo dicom ae-add``); an unknown caller's instances are refused with status
0x0124 (not authorised). A received instance is written, as the Part 10 file it
arrived as, into a spool folder per hospital and study (folder names are hashes:
no UID or patient value in a path), and the handler answers at once: it never
waits for the database or the pipeline.

A gatherer thread submits a study once it is *stable*: no new instance for
``OSTEO_DICOM_STABLE_SECONDS``. The study's instances become one batch in the
express lane (:func:`screening.interop.intake.submit_study`, with the identifiers
results must carry back sealed), and its spool folder is deleted. While the
database or object store is down the folder is kept and tried again; an instance
that arrives after its study was submitted starts a new batch of its own.
Raw files live on this machine only between arrival and submission; from then on
they are a raw upload like any other (deleted when ingest ends).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from pydicom.uid import (
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    RLELossless,
    SecondaryCaptureImageStorage,
)
from pynetdicom import AE, evt
from pynetdicom.transport import ThreadedAssociationServer

from screening.accounts import get_hospital
from screening.config import Settings
from screening.db.session import session_scope
from screening.faults import is_infrastructure_error
from screening.interop.intake import Instance, NotAnInstance, submit_study
from screening.interop.nodes import hospital_for_ae_title
from screening.pipeline.context import Enqueue
from screening.pipeline.submit import NotYetQueued
from screening.sealing import Sealer
from screening.storage import ObjectStore

logging.getLogger("pynetdicom").setLevel(logging.WARNING)  # it logs association details and datasets
logger = logging.getLogger(__name__)

# Radiographs of a hand: computed and digital radiography, and secondary captures of scanned film.
STORAGE_CLASSES = (ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation,
                   DigitalXRayImageStorageForProcessing, SecondaryCaptureImageStorage)
TRANSFER_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGBaseline8Bit, JPEG2000Lossless, RLELossless]
VERIFICATION = "1.2.840.10008.1.1"  # the Verification SOP class (C-ECHO)
NOT_AUTHORISED = 0x0124
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
AE_CACHE_SECONDS = 10.0


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


class StudySpool:
    """Received instances on disk, one folder per (hospital, study); submits stable studies."""

    def __init__(self, root: Path, stable_seconds: float) -> None:
        self.root, self.stable_seconds = root, stable_seconds
        self.root.mkdir(parents=True, exist_ok=True)

    def add(self, hospital_code: str, calling_ae: str, study_uid: str, sop_uid: str, data: bytes) -> None:
        """Write one instance (atomically: a half-written file is never read)."""
        folder = self.root / hospital_code / _hashed(study_uid)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "caller").write_text(calling_ae)
        target = folder / f"{_hashed(sop_uid)}.dcm"
        partial = target.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, target)

    def stable(self, now: float | None = None) -> list[Path]:
        """Study folders whose newest instance is older than the stable time."""
        moment = time.time() if now is None else now
        ready = []
        for folder in sorted(self.root.glob("*/*")):
            files = list(folder.glob("*.dcm"))
            if files and moment - max(f.stat().st_mtime for f in files) >= self.stable_seconds:
                ready.append(folder)
        return ready


class Listener:
    """The C-STORE SCP and its gatherer, for one process (``osteo dicom listen``)."""

    def __init__(self, settings: Settings, store: ObjectStore, enqueue: Enqueue,
                 spool: Path | None = None) -> None:
        self.settings, self.store, self.enqueue = settings, store, enqueue
        self.spool = StudySpool(spool or Path(settings.var_dir) / "dicom-spool", settings.dicom_stable_seconds)
        self.sealer = Sealer.from_settings(settings)
        self._callers: dict[str, tuple[float, str | None]] = {}  # AE title -> (looked up at, hospital code)
        self._stop = threading.Event()
        self._server: ThreadedAssociationServer | None = None
        self.submitted: list[str] = []  # batch ids, in order (for tests and the log)

    def hospital_code(self, calling_ae: str) -> str | None:
        """The hospital a calling AE title belongs to (cached briefly; the database is not hit per instance)."""
        cached = self._callers.get(calling_ae)
        if cached is not None and time.monotonic() - cached[0] < AE_CACHE_SECONDS:
            return cached[1]
        with session_scope(self.settings.database_url) as session:
            hospital = hospital_for_ae_title(session, calling_ae)
            code = hospital.code if hospital is not None else None
        self._callers[calling_ae] = (time.monotonic(), code)
        return code

    def on_store(self, event: evt.Event) -> int:
        """EVT_C_STORE: spool the instance and answer; never blocks on the pipeline."""
        calling = str(event.assoc.requestor.ae_title).strip()
        try:
            code = self.hospital_code(calling)
        except Exception as exc:  # noqa: BLE001 - the database is down: the sender retries later
            logger.warning("C-STORE from %s refused: hospital lookup failed (%s)", calling, type(exc).__name__)
            return OUT_OF_RESOURCES
        if code is None:
            logger.warning("C-STORE from unknown AE title %s refused (map it with osteo dicom ae-add)", calling)
            return NOT_AUTHORISED
        try:
            header = event.dataset
            study_uid, sop_uid = str(header.StudyInstanceUID), str(header.SOPInstanceUID)
        except Exception:  # noqa: BLE001 - a malformed dataset is the sender's problem, answered as such
            return CANNOT_UNDERSTAND
        try:
            self.spool.add(code, calling, study_uid, sop_uid, event.encoded_dataset())
        except OSError as exc:
            logger.warning("C-STORE from %s not spooled: %s", calling, type(exc).__name__)
            return OUT_OF_RESOURCES
        return 0x0000

    def gather_once(self, now: float | None = None) -> list[str]:
        """Submit every stable study; returns the new batch ids."""
        batches = []
        for folder in self.spool.stable(now):
            batch_id = self._submit(folder)
            if batch_id is not None:
                batches.append(batch_id)
        self.submitted += batches
        return batches

    def _submit(self, folder: Path) -> str | None:
        code = folder.parent.name
        caller = (folder / "caller").read_text() if (folder / "caller").exists() else "?"
        instances, unreadable = [], 0
        for path in sorted(folder.glob("*.dcm")):
            try:
                instances.append(Instance.read(path))
            except NotAnInstance:
                unreadable += 1
        if not instances:
            logger.warning("study from %s had no readable instance (%d files): dropped", caller, unreadable)
            shutil.rmtree(folder, ignore_errors=True)
            return None
        label = f"PACS study from {caller} ({len(instances)} image{'s' if len(instances) != 1 else ''})"
        try:
            with session_scope(self.settings.database_url) as session:
                hospital = get_hospital(session, code)
                batch_id = submit_study(session, self.store, self.enqueue, self.sealer, hospital, instances,
                                        label).batch.id
        except NotYetQueued as exc:
            batch_id = exc.batch_id  # committed: the recovery sweep will queue it
        except Exception as exc:
            if is_infrastructure_error(exc):
                logger.warning("study from %s kept for the next try: %s", caller, type(exc).__name__)
                return None
            raise
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("batch=%s hospital=%s: study of %d instances from %s submitted", batch_id, code,
                    len(instances), caller)
        return batch_id

    def start(self, host: str = "0.0.0.0", port: int | None = None) -> None:
        """Serve in background threads (the SCP and the gatherer); :meth:`stop` ends both."""
        ae = AE(ae_title=self.settings.dicom_ae_title)
        ae.network_timeout = ae.acse_timeout = ae.dimse_timeout = self.settings.dicom_timeout_seconds
        ae.maximum_pdu_size = 0
        for sop_class in STORAGE_CLASSES:
            ae.add_supported_context(sop_class, TRANSFER_SYNTAXES)
        ae.add_supported_context(VERIFICATION)  # C-ECHO, so a PACS can test the node
        self._server = ae.start_server((host, port or self.settings.dicom_port), block=False,
                                       evt_handlers=[(evt.EVT_C_STORE, self.on_store)])
        threading.Thread(target=self._gather_forever, name="osteo-dicom-gather", daemon=True).start()
        logger.info("DICOM listener %s on %s:%s", self.settings.dicom_ae_title, host, port or self.settings.dicom_port)

    def _gather_forever(self) -> None:
        while not self._stop.wait(min(1.0, self.settings.dicom_stable_seconds / 2)):
            try:
                self.gather_once()
            except Exception:  # noqa: BLE001 - one bad study must not stop the gatherer; the log says why
                logger.exception("gathering studies failed; trying again")

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
