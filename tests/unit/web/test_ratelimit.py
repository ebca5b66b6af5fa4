"""The fixed-window limiter, in memory and on Redis."""

from __future__ import annotations

import uuid

import pytest

from web.ratelimit import MemoryCounter, RateLimiter, RedisCounter


def test_memory_limiter_allows_up_to_the_limit_per_identity() -> None:
    limiter = RateLimiter(MemoryCounter(), {"login": (3, 60)})
    verdicts = [limiter.check("login", "1.2.3.4:a@x") for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 0 < verdicts[-1].retry_after <= 60
    assert limiter.check("login", "other").allowed


@pytest.mark.integration
def test_redis_limiter_is_shared_between_limiters(redis_url: str) -> None:
    identity = uuid.uuid4().hex
    first = RateLimiter(RedisCounter(redis_url), {"upload": (2, 60)})
    second = RateLimiter(RedisCounter(redis_url), {"upload": (2, 60)})
    assert first.check("upload", identity).allowed and second.check("upload", identity).allowed
    assert not first.check("upload", identity).allowed
