"""Response headers that keep the browser on the app's side: one policy for pages, one for stored files.

Pages load only the app's own stylesheet and script (no inline code, no other
hosts), may not be framed, and leak no URLs in ``Referer``. Reports and overlays
come from the object store and may hold uploaded text; they are served in a
CSP sandbox (an opaque origin where no script runs), so even a hostile HTML
report cannot read the session or call the API as the user.
"""

from __future__ import annotations

from flask import Flask, Response

from web.state import state

PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
               "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# Stored reports are self-contained: inline CSS and data: pictures, nothing else, and no script at all.
STORED_FILE_POLICY = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; "
                      "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HSTS_SECONDS = 365 * 24 * 3600


def isolate_stored_file(response: Response) -> Response:
    """Serve an object-store file (report, overlay, summary) so it cannot act on the app's origin."""
    response.headers["Content-Security-Policy"] = STORED_FILE_POLICY
    response.headers["Cache-Control"] = "private, no-store"
    return response


def add_security_headers(response: Response) -> Response:
    """After every request: the page policy (unless the view set a stricter one) and the fixed headers."""
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if state().settings.production:
        response.headers["Strict-Transport-Security"] = f"max-age={HSTS_SECONDS}"
    return response


def register(app: Flask) -> None:
    app.after_request(add_security_headers)
