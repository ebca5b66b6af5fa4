"""Sessions end on the server: a copied cookie is worthless after logout or a password change;
login attempts are throttled per client address across e-mails too (issue 12, item 9)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from screening.accounts import get_user, set_password
from screening.db.session import session_scope
from tests.integration.web.world import World, csrf_token, login

pytestmark = pytest.mark.integration
COOKIE = "osteo_session"


def _replay(app, cookie: str) -> FlaskClient:  # type: ignore[no-untyped-def]
    """A different browser holding a copy of ``cookie`` (e.g. stolen before the logout)."""
    other = app.test_client()
    other.set_cookie(COOKIE, cookie)
    return other


def test_a_copied_session_cookie_is_refused_after_logout(app, client, world: World) -> None:
    login(client, world.emails["staff_north"])
    cookie = client.get_cookie(COOKIE).value
    assert _replay(app, cookie).get("/batches").status_code == 200  # the copy works while logged in
    client.post("/logout", data={"csrf_token": csrf_token(client, "/batches")})
    copy = _replay(app, cookie)
    assert copy.get("/batches").status_code == 302
    assert copy.get(f"/api/v1/batches/{world.batches['NORTH']}").status_code == 401
    login(client, world.emails["staff_north"])  # logging in again gives a working session
    assert client.get("/batches").status_code == 200


def test_a_password_change_ends_every_session(app, client, world: World, world_db: str) -> None:
    email = world.emails["staff_south"]
    login(client, email)
    assert client.get("/batches").status_code == 200
    with session_scope(world_db) as session:
        set_password(session, get_user(session, email), "a-new-long-password")
    assert client.get("/batches").status_code == 302
    assert client.get("/api/v1/batches").status_code == 401
    refused = client.post("/login", data={"email": email, "password": "correct-horse-battery",
                                          "csrf_token": csrf_token(client)})
    assert refused.status_code == 401
    login(client, email, "a-new-long-password")
    assert client.get("/batches").status_code == 200
    with session_scope(world_db) as session:
        set_password(session, get_user(session, email), "correct-horse-battery")


def test_login_is_throttled_per_address_across_emails(app, client, world: World) -> None:
    app.extensions["osteo"].limiter.limits["login_ip"] = (3, 60)
    token = csrf_token(client)
    codes = [client.post("/login", data={"email": f"guess-{n}@example.org", "password": "nope",
                                         "csrf_token": token}).status_code for n in range(4)]
    assert codes == [401, 401, 401, 429]
    elsewhere = app.test_client()
    other = elsewhere.post("/login", environ_base={"REMOTE_ADDR": "10.9.8.7"},
                           data={"email": "guess-9@example.org", "password": "nope",
                                 "csrf_token": csrf_token(elsewhere)})
    assert other.status_code == 401  # another address still gets its own allowance


def test_changing_ones_password_keeps_this_browser_and_ends_the_others(app, client, world: World,
                                                                       world_db: str) -> None:
    email = world.emails["official_north"]
    login(client, email)
    elsewhere = _replay(app, client.get_cookie(COOKIE).value)
    assert "Change password" in client.get("/account/password").get_data(as_text=True)
    token = csrf_token(client, "/account/password")
    wrong = client.post("/account/password", data={"current": "not-my-password", "new": "another-long-one",
                                                   "csrf_token": token})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.get_data(as_text=True)
    short = client.post("/account/password", data={"current": "correct-horse-battery", "new": "short",
                                                   "csrf_token": token})
    assert short.status_code == 400 and "at least 8 characters" in short.get_data(as_text=True)
    changed = client.post("/account/password", data={"current": "correct-horse-battery",
                                                     "new": "another-long-one", "csrf_token": token})
    assert changed.status_code == 302
    assert client.get("/overview").status_code == 200  # this browser stays logged in
    assert elsewhere.get("/overview").status_code == 302  # every other session ended
    with session_scope(world_db) as session:
        set_password(session, get_user(session, email), "correct-horse-battery")
