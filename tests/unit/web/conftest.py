"""Unit-level web tests build the app on the embedded default (SQLite in tmp_path); no server needed."""

from __future__ import annotations

import pytest
from flask import Flask

from screening.config import load_settings
from screening.db import schema
from web import create_app


@pytest.fixture
def app(tmp_path) -> Flask:  # noqa: ANN001
    settings = load_settings({"OSTEO_VAR_DIR": str(tmp_path)})
    schema.upgrade(settings.database_url)
    return create_app(settings, enqueue=lambda name, args: None)
