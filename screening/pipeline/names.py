"""Stable task names of the pipeline's steps (Celery routes them by name; see worker/routing.py)."""

INGEST = "osteo.ingest"
SCREEN_CHUNK = "osteo.screen_chunk"
RENDER_REPORT = "osteo.render_report"
FINALIZE = "osteo.finalize"
