"""The embedded default (SQLite, local store, in-process steps) for pipeline tests that need no services."""

from __future__ import annotations

from pathlib import Path

import pytest

from screening.accounts import add_hospital, get_hospital
from screening.config import Settings, load_settings
from screening.db import Batch, schema, session_scope
from screening.local_runner import screen_locally
from screening.model_registry import load_active_predictor
from screening.storage import open_store
from tests.factories import make_tiny_bundle


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    return make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")


@pytest.fixture
def embedded(tmp_path, monkeypatch, tiny_bundle) -> Settings:
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OSTEO_MODEL_BUNDLE", str(tiny_bundle))
    monkeypatch.setenv("OSTEO_CHUNK_SIZE", "4")
    settings = load_settings()
    schema.upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
    return settings


def screen(settings: Settings, archive: Path, reports: bool = False) -> Batch:
    """Submit ``archive`` as hospital DH1 and run it to its final state in this process."""
    with session_scope(settings.database_url) as session:
        hospital = get_hospital(session, "DH1")
    return screen_locally(settings, open_store(settings), hospital, archive,
                          lambda: load_active_predictor(settings), reports=reports)
