"""Security headers on every response, pages that a strict CSP does not break, and stored
reports served so they cannot run script on the app's origin (issue 12, item 8)."""

from __future__ import annotations

import re

import pytest

from screening.db.models import Batch
from screening.db.session import session_scope
from tests.integration.web.world import World, login

pytestmark = pytest.mark.integration
PAGES = ["/batches", "/patients?referred=1", "/overview", "/hospitals/NORTH", "/admin", "/admin/models/mv-test-0001",
         "/api/v1/docs", "/login", "/no-such-page", "/account/password"]


def _directives(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = response.headers.get("Content-Security-Policy", "")
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


def assert_hardened(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what
    assert response.headers.get("X-Frame-Options") == "DENY", what
    assert response.headers.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin"), what
    assert _directives(response).get("frame-ancestors") == "frame-ancestors 'none'", what


def test_every_kind_of_response_carries_the_headers(client, world: World) -> None:
    responses = {
        "login page": client.get("/login"),
        "stylesheet": client.get("/static/style.css"),
        "script": client.get("/static/app.js"),
        "api json": client.get(f"/api/v1/batches/{world.batches['NORTH']}", headers=world.auth("staff_north")),
        "api 401": client.get("/api/v1/batches"),
        "api 404": client.get("/api/v1/batches/nope", headers=world.auth("admin")),
        "csv": client.get(f"/api/v1/batches/{world.batches['NORTH']}/results?format=csv",
                          headers=world.auth("staff_north")),
        "health": client.get("/healthz"),
        "redirect": client.get("/batches"),
    }
    for what, response in responses.items():
        assert_hardened(response, what)


def test_pages_get_a_strict_policy(client, world: World) -> None:
    directives = _directives(client.get("/login"))
    assert directives["default-src"] == "default-src 'self'"
    for name in ("script-src", "style-src"):
        assert directives[name] == f"{name} 'self'", directives  # no 'unsafe-inline', no hosts
    assert directives["object-src"] == "object-src 'none'" and directives["base-uri"] == "base-uri 'none'"
    assert directives["form-action"] == "form-action 'self'"


@pytest.mark.parametrize("who", ["staff_north", "official_coast", "admin"])
def test_pages_have_no_inline_script_or_style_the_policy_would_block(client, world: World, who: str) -> None:
    login(client, world.emails[who])
    paths = [*PAGES, f"/batches/{world.batches['NORTH']}", f"/patients/{world.patients['NORTH']}"]
    for path in paths:
        response = client.get(path)
        assert response.status_code in (200, 403, 404), path
        html = response.get_data(as_text=True)
        assert_hardened(response, path)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), f"inline script on {path}"
        assert not re.search(r"<style\b", html), f"<style> on {path}"
        assert not re.search(r"""\sstyle\s*=""", html), f"style attribute on {path}"
        assert not re.search(r"""\son[a-z]+\s*=""", html), f"event handler attribute on {path}"
        assert "javascript:" not in html, path


def _assert_isolated(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, what
    assert_hardened(response, what)
    directives = _directives(response)
    assert directives.get("sandbox") == "sandbox", f"{what}: {directives}"  # opaque origin, no scripts
    assert directives.get("default-src") == "default-src 'none'", what
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert "script-src" not in directives, what


def test_reports_and_overlays_are_sandboxed(client, world: World) -> None:
    auth = world.auth("staff_north")
    html = client.get(f"/api/v1/reports/{world.reports['NORTH']}.html", headers=auth)
    _assert_isolated(html, "html report")
    assert html.mimetype == "text/html"
    pdf = client.get(f"/api/v1/reports/{world.reports['NORTH']}.pdf", headers=auth)
    _assert_isolated(pdf, "pdf report")
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    _assert_isolated(client.get(f"/api/v1/images/{world.images['NORTH']}/overlay/jet", headers=auth), "overlay")


def test_batch_summary_document_is_sandboxed(app, client, world: World, world_db: str) -> None:
    key = "reports/NORTH/batches/x/summary.html"
    app.extensions["osteo"].store.put_bytes(key, b"<html><script>alert(document.cookie)</script></html>",
                                            "text/html; charset=utf-8")
    with session_scope(world_db) as session:
        session.get(Batch, world.batches["NORTH"]).summary_key = key
    response = client.get(f"/api/v1/batches/{world.batches['NORTH']}/summary", headers=world.auth("staff_north"))
    _assert_isolated(response, "batch summary")
