"""The stored batch summary says when the batch finished (it was once written before that was known)."""

from __future__ import annotations

import pytest

from screening.accounts import add_hospital, get_hospital
from screening.config import load_settings
from screening.db import BatchStatus, schema, session_scope
from screening.local_runner import screen_locally
from screening.model_registry import load_active_predictor
from screening.storage import open_store
from tests.factories import make_tiny_bundle, write_phantom_archive


@pytest.fixture
def settings(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    pytest.importorskip("weasyprint")
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OSTEO_MODEL_BUNDLE", str(make_tiny_bundle(tmp_path / "bundle")))
    settings = load_settings()
    schema.upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
    return settings


def test_batch_summary_names_the_finish_time(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    archive = write_phantom_archive(tmp_path / "day.zip", 3, seed=4)
    store = open_store(settings)
    with session_scope(settings.database_url) as session:
        hospital = get_hospital(session, "DH1")
    batch = screen_locally(settings, store, hospital, archive, lambda: load_active_predictor(settings))
    assert batch.status is BatchStatus.COMPLETE, batch.error
    html = store.get_bytes(batch.summary_key).decode("utf-8")
    assert "not finished" not in html
    assert f"{batch.finished_at:%Y-%m-%d %H:%M} UTC" in html
