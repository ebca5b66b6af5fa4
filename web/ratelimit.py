"""A fixed-window rate limiter for logins and uploads.

Fixed windows are coarse (a burst at a window edge can reach twice the limit)
but need one counter per key: an ``INCR`` + ``EXPIRE`` in Redis, shared by every
web process, or a dict in memory for the embedded single-process default.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Protocol

DEFAULT_LIMITS: dict[str, tuple[int, int]] = {
    "login": (10, 60),  # attempts per minute per client address and e-mail
    "login_ip": (50, 60),  # attempts per minute per client address, whatever the e-mail
    "upload": (30, 60),  # uploads per minute per user
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int  # seconds until the current window ends


class Counter(Protocol):
    def hit(self, key: str, window: int) -> int:
        """Increment the counter of ``key`` that lives ``window`` seconds; return the new count."""
        ...


class MemoryCounter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window: int) -> int:
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > 10_000:  # drop expired windows so memory stays bounded
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            count, expires = self._counts.get(key, (0, now + window))
            if expires <= now:
                count, expires = 0, now + window
            self._counts[key] = (count + 1, expires)
            return count + 1


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    def hit(self, key: str, window: int) -> int:
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        count, _ = pipe.execute()
        return int(count)


class RateLimiter:
    def __init__(self, counter: Counter, limits: dict[str, tuple[int, int]] | None = None) -> None:
        self.counter = counter
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}

    def check(self, scope: str, identity: str) -> Verdict:
        """Count one attempt of ``identity`` in ``scope`` and say whether it is within the limit."""
        limit, window = self.limits[scope]
        now = int(time.time())
        window_start = now - now % window
        count = self.counter.hit(f"osteo:rl:{scope}:{identity}:{window_start}", window)
        return Verdict(count <= limit, window_start + window - now)


def build_limiter(redis_url: str | None, limits: dict[str, tuple[int, int]] | None = None) -> RateLimiter:
    return RateLimiter(RedisCounter(redis_url) if redis_url else MemoryCounter(), limits)
