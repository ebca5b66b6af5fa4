"""A received DICOM study becomes a batch: instances into an archive, identifiers sealed, express lane.

The DICOM listener (C-STORE) and the STOW-RS endpoint both hand their instances to
:func:`submit_study`. Each instance goes into the archive under a neutral name
(``image-0001.dcm``, in series and instance order), so no UID or patient value
ever becomes a file name on a page or in a log; ingest reads age, sex and patient
id from the tags as for any DICOM upload. What results must carry back to the
study (:mod:`screening.interop.source`) is sealed into ``dicom_sources`` in the
same transaction as the batch row.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from sqlalchemy.orm import Session

from screening.db.models import Batch, DicomSource, Hospital
from screening.interop.source import SourceError, seal_source
from screening.pipeline.context import Enqueue
from screening.pipeline.submit import Submission, submit_batch
from screening.sealing import Sealer
from screening.storage import ObjectStore


class NotAnInstance(ValueError):
    """The bytes are not a DICOM instance results could refer to; the message says why."""


@dataclass(frozen=True)
class Instance:
    """One received instance: its file (bytes in memory, or a path on disk) and its header without pixels."""

    content: bytes | Path
    header: Dataset

    @classmethod
    def read(cls, content: bytes | Path) -> Instance:
        """The instance with its header; :class:`NotAnInstance` when it is not DICOM or lacks its UIDs."""
        try:
            with (io.BytesIO(content) if isinstance(content, bytes) else content.open("rb")) as stream:
                header = pydicom.dcmread(stream, stop_before_pixels=True)
        except (InvalidDicomError, ValueError, EOFError, OSError, KeyError, TypeError) as exc:
            raise NotAnInstance(f"not a readable DICOM instance ({type(exc).__name__})") from None
        if not header.get("SOPInstanceUID") or not header.get("StudyInstanceUID"):
            raise NotAnInstance("the DICOM instance has no SOP or study instance UID")
        return cls(content, header)

    @property
    def order(self) -> tuple[str, int, int]:
        def number(keyword: str) -> int:
            try:
                return int(self.header.get(keyword) or 0)
            except (TypeError, ValueError):
                return 0
        return str(self.header.get("SeriesInstanceUID", "")), number("SeriesNumber"), number("InstanceNumber")


def submit_study(session: Session, store: ObjectStore, enqueue: Enqueue, sealer: Sealer, hospital: Hospital,
                 instances: Sequence[Instance], label: str, uploader_id: int | None = None) -> Submission:
    """Archive the instances, seal their sources with the batch row, submit in the express lane."""
    if not instances:
        raise NotAnInstance("the study holds no instances")
    ordered = sorted(instances, key=lambda item: item.order)
    names = [f"image-{number:04d}.dcm" for number in range(1, len(ordered) + 1)]
    sealed: dict[str, str] = {}
    for name, item in zip(names, ordered, strict=True):
        try:
            sealed[name] = seal_source(sealer, item.header)
        except SourceError:
            continue  # screened all the same; nothing can be written back for it
    with tempfile.TemporaryFile(prefix="osteo-study-") as archive:
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED, allowZip64=True) as out:
            for name, item in zip(names, ordered, strict=True):
                if isinstance(item.content, bytes):
                    out.writestr(name, item.content)
                else:
                    out.write(item.content, name)
        archive.seek(0)

        def keep_sources(batch: Batch) -> None:
            session.add_all(DicomSource(batch_id=batch.id, filename=name, sealed=token)
                            for name, token in sealed.items())

        return submit_batch(session, store, enqueue, hospital, archive, label, uploader_id=uploader_id,
                            before_commit=keep_sources, express=True)
