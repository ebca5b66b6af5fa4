"""Which failures are the infrastructure's (retry) and which are the input's (reject the file).

The rule of the product is that only bad input may fail a file: an outage of the
database, the broker or the object store must reach a retry, never a per-file
error. Every ``except`` that turns an exception into a recorded failure asks
:func:`is_infrastructure_error` first and re-raises when it says yes; the web app
answers 503 with Retry-After for the same errors.
"""

from __future__ import annotations

import redis.exceptions
from sqlalchemy import exc as sa_exc

from screening.db.session import DatabaseUnavailable
from screening.storage import StorageUnavailable


class BrokerUnavailable(RuntimeError):
    """A task could not be published: the broker is down or refused the message."""


INFRASTRUCTURE_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseUnavailable, sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
    sa_exc.TimeoutError, StorageUnavailable, BrokerUnavailable, ConnectionError, TimeoutError,
    redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError,
)


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when ``exc`` means a service is unavailable (so the work must be retried, not failed)."""
    if isinstance(exc, INFRASTRUCTURE_ERRORS):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(getattr(exc, "connection_invalidated", False))
