"""Hospital systems: DICOM in and out, and FHIR.

``source``: the identifiers kept (encrypted) to write results back into a study;
``results``: SR, Secondary Capture and Encapsulated PDF builders (pure);
``uids``: deterministic UIDs; ``codes``: the coded concepts; the senders and the
listener live beside them. Nothing here logs an identifier: third-party DICOM
libraries that would (pynetdicom dumps datasets at debug level, highdicom logs
UIDs at info) are quietened where they are imported.
"""
