"""An admin reviews and changes a district's operating point in a real browser (issue 15, item 5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.helpers import LiveServer, browser_settings, login, save_screenshot, seed, seed_program, serve
from tests.conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def server(postgres_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    seed(postgres_url, with_model=True)
    settings = browser_settings(postgres_url, tmp_path, free_port())
    seed_program(settings)
    yield from serve(settings, enqueue=lambda name, args: None)


def test_an_admin_sets_an_operating_point_from_the_evidence(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "admin")
    page.click("nav >> text=Admin")
    page.click("text=Operating points")
    page.click("[data-review=North]")
    assert "North: what each threshold would mean" in page.inner_text("[data-evidence] h2")
    row = page.locator("[data-candidates] tr[data-threshold='0.40']")
    assert "%" in row.inner_text()  # sensitivity, specificity and PPV with intervals
    page.fill("input[name=refer_threshold]", "0.45")
    page.fill("input[name=capacity_threshold]", "0.35")
    page.fill("textarea[name=reason]", "40 DXA slots a month from April")
    page.click("text=Set for new batches")
    page.wait_for_selector(".flash.info")
    assert "refer from P(osteoporosis) 0.45" in page.inner_text(".flash.info")
    assert "40 DXA slots a month from April" in page.inner_text("[data-history]")
    assert "0.45" in page.inner_text("[data-districts]")
    save_screenshot(page, "admin-operating-points")
