"""Stable task names of the pipeline's steps (Celery routes them by name; see worker/routing.py).

Every step has a second name in the *express lane*: the same function, published on
queues that bulk uploads never fill, so a one-study call or a PACS study is screened
while a 2,000-image archive is still in progress. A batch's lane is ``Batch.express``;
every step that hands on work publishes the next step's name in the batch's lane.
"""

INGEST = "osteo.ingest"
SCREEN_CHUNK = "osteo.screen_chunk"
RENDER_REPORT = "osteo.render_report"
FINALIZE = "osteo.finalize"
# Results back to a hospital destination (screening.pipeline.deliver): one lane, the express queue.
DELIVER = "osteo.deliver"

EXPRESS_PREFIX = "osteo.express."


def in_lane(name: str, express: bool) -> str:
    """The step's task name in the bulk lane (``osteo.ingest``) or the express lane (``osteo.express.ingest``)."""
    return EXPRESS_PREFIX + name.removeprefix("osteo.") if express else name


def is_express(name: str) -> bool:
    return name.startswith(EXPRESS_PREFIX)
