"""A real DICOM storage node for tests: pynetdicom's C-STORE SCP on loopback, recording what it stores."""

from __future__ import annotations

import threading
from collections import Counter

from pydicom.dataset import Dataset
from pynetdicom import AE, AllStoragePresentationContexts, evt
from pynetdicom.presentation import build_context


class StorageSCP:
    """Accepts every storage SOP class from anyone calling ``ae_title``; keeps each stored dataset."""

    def __init__(self, port: int, ae_title: str = "TESTPACS") -> None:
        self.port, self.ae_title = port, ae_title
        self.stored: list[Dataset] = []
        self.calls = Counter[str]()  # SOP Instance UID -> C-STOREs received
        self._lock = threading.Lock()
        ae = AE(ae_title=ae_title)
        ae.supported_contexts = [build_context(c.abstract_syntax) for c in AllStoragePresentationContexts]
        self._server = ae.start_server(("127.0.0.1", port), block=False,
                                       evt_handlers=[(evt.EVT_C_STORE, self._on_store)])

    def _on_store(self, event) -> int:  # type: ignore[no-untyped-def]
        dataset = event.dataset
        dataset.file_meta = event.file_meta
        with self._lock:
            self.stored.append(dataset)
            self.calls[str(dataset.SOPInstanceUID)] += 1
        return 0x0000

    def by_class(self, sop_class: str) -> list[Dataset]:
        return [ds for ds in self.stored if ds.SOPClassUID == sop_class]

    def stop(self) -> None:
        self._server.shutdown()
