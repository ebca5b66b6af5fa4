"""submit_batch on PostgreSQL: Idempotency-Key replays, conflicts and races; nothing orphaned in the store."""

from __future__ import annotations

import io
import threading

import pytest
from sqlalchemy import func, select

from screening.accounts import add_hospital, get_hospital
from screening.db import Batch, schema, session_scope
from screening.pipeline import IdempotencyConflict, submit_batch
from screening.storage import LocalObjectStore

pytestmark = pytest.mark.integration


@pytest.fixture
def world(postgres_url, tmp_path):
    schema.upgrade(postgres_url)
    with session_scope(postgres_url) as session:
        add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
    return postgres_url, LocalObjectStore(tmp_path / "objects")


class SlowStream(io.BytesIO):
    """A body that arrives in pieces, waiting at a barrier so two uploads overlap."""

    def __init__(self, data: bytes, barrier: threading.Barrier) -> None:
        super().__init__(data)
        self.barrier = barrier

    def read(self, size: int = -1) -> bytes:
        if self.tell() == 0:
            self.barrier.wait(10)
        return super().read(size)


def _submit(url, store, data: bytes, key: str | None, enqueued: list, stream=None):
    with session_scope(url) as session:
        return submit_batch(session, store, lambda n, a: enqueued.append((n, a)), get_hospital(session, "DH1"),
                            stream or io.BytesIO(data), "day.zip", idempotency_key=key)


def _uploads(store) -> list[str]:
    return list(store.list("uploads/"))


def test_replay_with_the_same_body_answers_the_first_batch(world):
    url, store = world
    enqueued: list = []
    first = _submit(url, store, b"PK archive one", "key-1", enqueued)
    again = _submit(url, store, b"PK archive one", "key-1", enqueued)
    assert (first.created, again.created) == (True, False)
    assert first.batch.id == again.batch.id
    assert len(enqueued) == 1 and len(_uploads(store)) == 1


def test_replay_with_a_different_body_is_refused_and_leaves_nothing(world):
    url, store = world
    _submit(url, store, b"PK archive one", "key-2", [])
    with pytest.raises(IdempotencyConflict):
        _submit(url, store, b"PK another archive", "key-2", [])
    assert len(_uploads(store)) == 1
    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1


def test_concurrent_requests_with_one_key_give_one_batch(world):
    url, store = world
    barrier = threading.Barrier(4)
    results, errors, enqueued = [], [], []

    def upload() -> None:
        try:
            results.append(_submit(url, store, b"", "key-3", enqueued,
                                   stream=SlowStream(b"PK the same archive" * 1000, barrier)))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=upload) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert len({r.batch.id for r in results}) == 1 and sum(r.created for r in results) == 1
    assert len(enqueued) == 1
    assert len(_uploads(store)) == 1  # the losers' archives were deleted
    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
