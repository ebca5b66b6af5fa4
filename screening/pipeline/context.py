"""What every step needs: settings, the object store, how to hand on the next step, the model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from screening.config import Settings
from screening.storage import ObjectStore

if TYPE_CHECKING:  # TensorFlow is imported only by processes that screen
    from screening.model.inference import Predictor

# enqueue(task_name, args): Celery's send_task in production, an in-process queue in the embedded runner.
Enqueue = Callable[[str, tuple], None]


@dataclass
class PipelineContext:
    """What every step needs; heavy parts (model, renderer) load on first use, once per process."""

    settings: Settings
    store: ObjectStore
    enqueue: Enqueue
    load_predictor: Callable[[], Predictor] | None = None
    reports_enabled: bool = True
    # Another model than the one loaded first (after a promotion), by version; at most one kept.
    _other: dict[str, Predictor] = field(default_factory=dict, init=False, repr=False)

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @cached_property
    def predictor(self) -> Predictor:
        if self.load_predictor is None:
            raise RuntimeError("this process has no model: it does not serve the inference queue")
        return self.load_predictor()

    def predictor_for(self, version: str | None) -> Predictor:
        """The predictor of model ``version`` (None: the one loaded first), loaded once per process.

        Raises ``screening.model_registry.ModelUnavailable`` when ``version`` is neither the
        loaded model nor in the object store.
        """
        current = self.predictor
        if version is None or version == current.bundle.version:
            return current
        if version not in self._other:
            from screening.model_registry import load_version_predictor

            self._other.clear()  # one other model in memory at most
            self._other[version] = load_version_predictor(self.settings, version)
        return self._other[version]

    @cached_property
    def renderer(self) -> Any:
        from screening.reports.render import ReportRenderer

        return ReportRenderer()


def now() -> datetime:
    return datetime.now(UTC)
