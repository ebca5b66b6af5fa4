"""A radiographer works the referral worklist in a real browser (issue 15, item 2).

55 referred patients at NORTH: the worklist says 1-50 of 55 and page 2 holds the rest;
a click on a column header sorts; one patient is marked contacted from the list, then
their DXA result is recorded on the referral's page and the list shows "DXA done".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from screening.db.session import session_scope
from tests.browser.helpers import LiveServer, browser_settings, login, save_screenshot, seed, serve
from tests.conftest import free_port
from tests.factories import add_referred_batch

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture
def server(postgres_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    seed(postgres_url, with_model=True)
    settings = browser_settings(postgres_url, tmp_path, free_port())
    with session_scope(postgres_url) as session:
        created = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0) - timedelta(days=2)
        add_referred_batch(session, settings, "NORTH", 55, created, "a1b2c3d4e5f6")
    yield from serve(settings, enqueue=lambda name, args: None)


def test_staff_work_a_referral_from_the_list_to_a_dxa_result(page, server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    login(page, server, "staff")
    page.click("nav >> text=Referrals")
    assert "1–50 of 55 referrals" in page.inner_text("[data-pager]")
    assert page.locator("[data-worklist] tbody tr").count() == 50
    page.locator("[data-pager] >> text=Next →").first.click()
    assert "51–55 of 55 referrals" in page.inner_text("[data-pager]")
    assert page.locator("[data-worklist] tbody tr").count() == 5
    page.click("[data-sort=risk]")  # highest risk first; back to page 1
    page.wait_for_load_state()
    first = page.locator("[data-worklist] tbody tr").first
    assert "MRN-00054" in first.inner_text() and "57.0 %" in first.inner_text()
    first.locator("select[name=state]").select_option("contacted")
    first.locator("button", has_text="Save").click()
    page.wait_for_selector(".flash.info")
    assert "is now 'contacted'" in page.inner_text(".flash.info")
    row = page.locator("[data-worklist] tbody tr").first
    assert "contacted" in row.inner_text() and "nurse@north.example.org" in row.inner_text()
    row.locator("text=DXA result…").click()
    page.fill("input[name=dxa_date]", datetime.now(UTC).date().isoformat())
    page.fill("input[name=device]", "Hologic Horizon A")
    page.fill("input[name=t_femoral_neck]", "-2.8")
    page.fill("input[name=t_lumbar_spine]", "-2.2")
    page.click("text=Record DXA result")
    page.wait_for_selector(".flash.info")
    assert "lowest T-score -2.8 (osteoporosis)" in page.inner_text(".flash.info")
    assert "DXA done" in page.inner_text("[data-follow-up] h2")
    assert "MRN-00054" in page.inner_text("h1")
    history = page.inner_text("[data-history]")
    assert "to contact → contacted" in history and "DXA result: lowest T -2.8" in history
    save_screenshot(page, "referral")
    page.click("text=Referrals >> nth=1")  # the crumb back to the list
    page.goto(f"{server.url}/referrals?state=dxa_done")
    assert "1–1 of 1 referrals" in page.inner_text("[data-pager]")
    page.goto(f"{server.url}/patients")  # the 51st patient is on page 2 (issue 15, item 3)
    assert "1–50 of 55 patients" in page.inner_text("[data-pager] >> nth=0")
    page.locator("[data-pager] >> text=Next →").first.click()
    assert "51–55 of 55 patients" in page.inner_text("[data-pager] >> nth=0")
    assert page.locator("[data-patient-row]").count() == 5
    page.goto(f"{server.url}/referrals?state=all&sort=-changed&per_page=25")
    assert "DXA done" in page.locator("[data-worklist] tbody tr").first.inner_text()
    save_screenshot(page, "referral-worklist")
