"""Browser-test fixtures: one chromium per session, a fresh page per test (see helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import require


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    require(CHROMIUM.exists(), f"chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A fresh page; the test fails if the app's Content-Security-Policy blocked anything on it."""
    context = chromium_browser.new_context(viewport={"width": 1360, "height": 900}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked: list[str] = []
    context.on("console", lambda message: blocked.append(message.text)
               if "Content Security Policy" in message.text else None)
    yield page
    context.close()
    assert not blocked, f"the Content-Security-Policy blocked: {blocked}"
