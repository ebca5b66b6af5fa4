"""TensorFlow runtime settings for processes that screen.

The predictor's graph is a chain of ops, so TensorFlow's inter-op thread pool has
nothing to run in parallel; on a CPU worker its extra threads only compete with the
intra-op threads that do the convolutions and with the worker's own image threads.
One inter-op thread measured ~13% more pipeline throughput on a 2-core machine
(bench/pipeline.py). It must be set before TensorFlow runs its first op.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def configure_threads(inter_op: int = 1) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_inter_op_parallelism_threads(inter_op)
    except RuntimeError:  # the runtime already started in this process: keep its settings
        log.info("TensorFlow already initialised; inter-op threads left at %s",
                 tf.config.threading.get_inter_op_parallelism_threads())
