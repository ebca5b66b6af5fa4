"""What people do in the dashboard, in a real browser against the real server.

* staff log in, upload an archive through the form and see the batch with a progress bar;
* an official sees the overview of their region's hospitals;
* end to end with a real Celery worker: the batch reaches complete on its own (the page
  polls the API), and the patient's page and report open.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.helpers import LiveServer, browser_settings, login, save_screenshot, seed, seed_program, serve
from tests.conftest import REPO_ROOT, free_port
from tests.factories import write_phantom_archive

pytestmark = [pytest.mark.browser, pytest.mark.integration]
DISCLAIMER = "Screening aid, not a diagnosis; DXA is the reference standard."


@pytest.fixture
def server(postgres_url: str, tmp_path: Path) -> Iterator[tuple[LiveServer, list]]:
    seed(postgres_url, with_model=True)
    enqueued: list = []
    settings = browser_settings(postgres_url, tmp_path, free_port())
    yield from ((s, enqueued) for s in serve(settings, enqueue=lambda name, args: enqueued.append((name, args))))


def test_staff_upload_shows_the_batch_with_a_progress_bar(page, server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live, enqueued = server
    page.goto(f"{live.url}/login")
    assert DISCLAIMER in page.inner_text(".disclaimer")
    save_screenshot(page, "login")
    login(page, live, "staff")
    assert page.url.endswith("/batches")
    archive = write_phantom_archive(tmp_path / "ward-7.zip", count=3, seed=1, size=96)
    page.set_input_files("input[name=archive]", str(archive))
    page.click("text=Upload and screen")
    page.wait_for_selector(".flash.info")
    row = page.locator("table.data tbody tr", has_text="ward-7.zip")
    assert row.locator(".progress .bar").count() == 1
    assert row.locator(".status").inner_text().lower() == "queued"
    assert len(enqueued) == 1
    assert "osteo-fusion-demo" in page.inner_text(".disclaimer")


def test_official_sees_the_regions_overview(page, server) -> None:  # type: ignore[no-untyped-def]
    live, _ = server
    seed_program(live.settings)
    login(page, live, "official")
    assert page.url.endswith("/overview")
    table = page.inner_text("[data-places]")
    for name in ("North District Hospital", "South District Hospital", "Bay Community Hospital"):
        assert name in table
    assert "Hill Country Hospital" not in table
    assert page.locator("svg.chart polyline").count() == 3  # people screened, referred, DXA done per week
    assert int(page.inner_text("[data-figure=people_screened]").replace(",", "")) > 0
    assert "%" in page.inner_text("[data-figure=ppv_osteoporosis]")
    assert DISCLAIMER in page.inner_text(".disclaimer")
    page.click("[data-weekly] summary")  # the trend's values
    assert page.locator("[data-weekly] tbody tr").count() >= 12
    save_screenshot(page, "official-overview")
    page.select_option("select[name=level]", "region")
    page.click("text=Apply")
    assert "3 hospitals" in page.inner_text("[data-places]") and "1 hospitals" not in page.inner_text("body")
    page.click("[data-drill=Coast]")  # region -> its districts
    assert "district" in page.input_value("select[name=level]") and "Coast" in page.inner_text("[data-crumbs]")
    page.click("[data-drill=South]")  # district -> its hospitals
    assert page.input_value("select[name=level]") == "hospital"
    page.click("[data-drill=SOUTH]")  # -> the hospital
    assert "South District Hospital" in page.inner_text("h1")
    assert int(page.inner_text("[data-figure=people_screened]").replace(",", "")) > 0


def test_the_officials_overview_fits_a_phone(page, server) -> None:  # type: ignore[no-untyped-def]
    live, _ = server
    seed_program(live.settings)
    page.set_viewport_size({"width": 390, "height": 844})
    login(page, live, "official")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width} px wide on a 390 px phone"
    tiles = page.locator("[data-tiles] .tile")
    first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
    assert first and second and abs(first["y"] - second["y"]) < 2  # two tiles a row
    assert page.locator("[data-places] thead").is_hidden()  # one card per place, each value labelled
    label = page.evaluate("getComputedStyle(document.querySelector('[data-places] tbody td.num'), '::before').content")
    assert label == '"People screened"'
    save_screenshot(page, "official-overview-phone")


@pytest.fixture
def worker_server(postgres_url: str, redis_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """The real server with the real enqueue (Celery on Redis) and a Celery worker subprocess."""
    seed(postgres_url, with_model=False)
    bundle = tmp_path / "bundle"
    subprocess.run([sys.executable, "-c", f"from pathlib import Path; from tests.factories import make_tiny_bundle; "
                                          f"make_tiny_bundle(Path({str(bundle)!r}))"],
                   cwd=REPO_ROOT, check=True, timeout=180)
    redis_db = redis_url  # the database OSTEO_TEST_REDIS_URL names: no other run's workers take these tasks
    port = free_port()
    settings = browser_settings(postgres_url, tmp_path, port, redis_url=redis_db, model_bundle=str(bundle))
    _flush(redis_db)
    env = {**os.environ, "OSTEO_DATABASE_URL": postgres_url, "OSTEO_REDIS_URL": redis_db,
           "OSTEO_VAR_DIR": str(tmp_path), "OSTEO_STORAGE_DIR": settings.storage_dir,
           "OSTEO_MODEL_BUNDLE": str(bundle), "OSTEO_PUBLIC_BASE_URL": settings.public_base_url,
           "OSTEO_CHUNK_SIZE": "8"}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([str(Path(sys.executable).parent / "celery"), "-A", "worker.app", "worker",
                               "-Q", "ingest,inference,reports", "--pool", "solo", "--loglevel", "INFO"],
                              cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield from serve(settings)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()
        _flush(redis_db)


def _flush(redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def test_batch_completes_and_the_patient_report_opens(page, worker_server: LiveServer, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    live = worker_server
    login(page, live, "staff")
    # 512 px phantoms with a pixel spacing: some hands are measured (radiogrammetry, in mm).
    archive = write_phantom_archive(tmp_path / "monday-clinic.zip", count=4, seed=5, size=512,
                                    overrides={i: {"pixel_spacing_mm": "0.1"} for i in range(4)})
    page.set_input_files("input[name=archive]", str(archive))
    page.click("text=Upload and screen")
    page.click("text=monday-clinic.zip >> xpath=ancestor::tr >> a")
    # The batch page polls /api/v1/batches/{id} and reloads itself when the batch finishes.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        status = page.inner_text("[data-status] .status").lower()
        if status.startswith("complete") or status == "failed":
            break
        page.wait_for_timeout(1000)
    log = (tmp_path / "worker.log").read_text(errors="replace")[-3000:]
    assert page.inner_text("[data-status] .status").lower() in ("complete", "complete with errors"), log
    page.wait_for_load_state("networkidle")
    assert page.locator("table.data").last.count() == 1
    assert "test-tiny" in page.inner_text("body")  # the batch page names the model that screened it
    # The measured bone: the combined cortical index and T in mm, with a link to the lines drawn.
    measured = page.locator("tr", has=page.locator("[data-cortical-index]"))
    assert measured.count() >= 1, "no phantom hand was measured"
    cell = measured.first.locator("td.measure").inner_text()
    assert cell.startswith("CI ") and " %" in cell and "mm" in cell, cell
    overlay_url = measured.first.locator("[data-measurement-overlay]").get_attribute("href")
    assert overlay_url and overlay_url.endswith("/overlay/measurement")
    save_screenshot(page, "hospital-batch")
    ids = _manifest_ids(archive)  # staff see their own patient ids (issue 15, item 1)
    assert any(patient_id in page.inner_text("table.data >> nth=-1") for patient_id in ids)
    measured.first.locator("a[href^='/patients/P']").click()
    assert "Patient" in page.inner_text("h1")
    own_id = page.inner_text("h1 [data-identifier]")
    assert own_id in ids
    assert page.locator("svg.chart").count() == 1
    card = page.locator("[data-measured-bone]")
    shown = card.inner_text().lower()  # table headers are upper-cased by the stylesheet
    assert "cortical index" in shown and "d outer" in shown and " mm" in shown
    overlay = card.locator("img.measurement-overlay").first
    overlay.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=overlay.element_handle())
    assert overlay.evaluate("img => img.naturalWidth") > 100  # the overlay PNG loaded (same authorisation)
    save_screenshot(page, "patient")
    with page.expect_popup() as popup:
        page.locator("a", has_text="HTML").first.click()
    report = popup.value
    report.wait_for_load_state()
    text = report.inner_text("body")
    assert "DXA" in text and "Measured bone" in text and "Schreiber" in text and own_id in text
    other = next(patient_id for patient_id in ids if patient_id != own_id)
    page.goto(f"{live.url}/patients")
    page.fill("input[name=q]", other)
    page.click("text=Open patient")
    assert page.inner_text("h1 [data-identifier]") == other and "/patients/P" in page.url and other not in page.url


def _manifest_ids(archive: Path) -> list[str]:
    import csv
    import io
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        return [row["patient_id"] for row in csv.DictReader(io.StringIO(zf.read("manifest.csv").decode()))]
