"""Dashboard pages: login (CSRF, rate limit, audit), role landing pages, scope, admin changes."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from screening import pipeline
from screening.db.models import ApiToken, AuditEvent, Hospital, ModelVersion
from screening.db.session import session_scope
from tests.integration.web.test_api_batches import small_zip
from tests.integration.web.world import MODEL_ID, World, csrf_token, login

pytestmark = pytest.mark.integration
DISCLAIMER = "Screening aid, not a diagnosis; DXA is the reference standard."


def test_pages_need_a_login(client) -> None:
    response = client.get("/batches/abc")
    assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_login_without_csrf_token_is_refused(client, world: World) -> None:
    response = client.post("/login", data={"email": world.emails["staff_north"], "password": "x"})
    assert response.status_code == 400 and "CSRF" in response.get_data(as_text=True)


def test_wrong_password_is_401_and_audited(client, world: World, world_db: str) -> None:
    response = client.post("/login", data={"email": world.emails["staff_south"], "password": "wrong-password",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 401 and "Wrong e-mail or password" in response.get_data(as_text=True)
    with session_scope(world_db) as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "login.failure")).all()
    assert any(e.details.get("email") == world.emails["staff_south"] for e in events)


def test_login_rate_limit_shows_a_friendly_429(app, client, world: World) -> None:
    app.extensions["osteo"].limiter.limits["login"] = (2, 60)
    token = csrf_token(client)
    codes = [client.post("/login", data={"email": "x@example.org", "password": "nope", "csrf_token": token})
             for _ in range(3)]
    assert [c.status_code for c in codes] == [401, 401, 429]
    assert "Too many requests" in codes[-1].get_data(as_text=True) and codes[-1].headers["Retry-After"]


def test_session_cookie_is_httponly_and_lax(client, world: World) -> None:
    client.get("/login")
    response = client.post("/login", data={"email": world.emails["staff_north"], "password": "correct-horse-battery",
                                           "csrf_token": csrf_token(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_staff_batch_list_upload_and_batch_page(client, world: World, enqueued) -> None:
    login(client, world.emails["staff_north"])
    assert client.get("/").headers["Location"].endswith("/batches")
    page = client.get("/batches").get_data(as_text=True)
    assert DISCLAIMER in page and MODEL_ID in page and 'class="progress"' in page and "Upload X-rays" in page
    response = client.post("/batches", data={"archive": (io.BytesIO(small_zip()), "wednesday.zip"),
                                             "csrf_token": csrf_token(client, "/batches")})
    assert response.status_code == 302
    assert [name for name, _ in enqueued] == [pipeline.INGEST]
    listing = client.get("/batches").get_data(as_text=True)
    assert "wednesday.zip" in listing and "was received and queued" in listing
    batch = client.get(f"/batches/{world.batches['NORTH']}").get_data(as_text=True)
    for text in ("Referral list", "Quality rejections", "image too blurred", "hand-1.png", "Results CSV",
                 f"/api/v1/reports/{world.reports['NORTH']}.pdf", DISCLAIMER):
        assert text in batch, text


def test_form_upload_without_csrf_is_refused(client, world: World, enqueued) -> None:
    login(client, world.emails["staff_north"])
    response = client.post("/batches", data={"archive": (io.BytesIO(small_zip()), "x.zip")})
    assert response.status_code == 400 and enqueued == []


def test_session_api_posts_need_the_csrf_header(client, world: World, enqueued) -> None:
    login(client, world.emails["staff_north"])
    refused = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip")
    assert refused.status_code == 400 and refused.mimetype == "application/problem+json"
    token = csrf_token(client, "/batches")
    accepted = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip",
                           headers={"X-CSRFToken": token})
    assert accepted.status_code == 202 and len(enqueued) == 1
    assert client.get(f"/api/v1/batches/{accepted.json['id']}").json["status"] == "queued"


def test_other_hospitals_pages_are_404(client, world: World) -> None:
    login(client, world.emails["staff_south"])
    for path in (f"/batches/{world.batches['NORTH']}", f"/patients/{world.patients['NORTH']}", "/hospitals/NORTH"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert DISCLAIMER in response.get_data(as_text=True)
    assert client.get("/admin").status_code == 403


def test_patient_page_shows_history_chart_and_reports(client, world: World) -> None:
    login(client, world.emails["staff_north"])
    page = client.get(f"/patients/{world.patients['NORTH']}").get_data(as_text=True)
    assert "<svg" in page and "Risk over time" in page and "Refer for DXA" in page
    assert f"/api/v1/reports/{world.reports['NORTH']}.pdf" in page and MODEL_ID in page
    worklist = client.get("/patients?referred=1").get_data(as_text=True)
    assert world.patients["NORTH"] in worklist and world.patients["SOUTH"] not in worklist


def test_official_overview_drilldown_and_csv(client, world: World) -> None:
    login(client, world.emails["official_coast"])
    assert client.get("/").headers["Location"].endswith("/overview")
    page = client.get("/overview?from=2024-03-01&to=2024-03-02").get_data(as_text=True)
    assert "North District Hospital" in page and "South District Hospital" in page
    assert "Hill Country Hospital" not in page and "<svg" in page and DISCLAIMER in page
    assert client.get("/overview?from=nonsense").status_code == 400
    drill = client.get("/hospitals/SOUTH").get_data(as_text=True)
    assert "South District Hospital" in drill and "SOUTH.zip" in drill
    csv_text = client.get("/overview.csv?level=district").get_data(as_text=True)
    assert DISCLAIMER in csv_text.splitlines()[0]
    # Image counts first (as before), then the people figures: 1 person screened, none referred yet.
    assert re.search(r"^North,North,North,Coast,1,24,4,20,10,6,4,6,0.3000,0.1667,0,1,0,0.0000,0,", csv_text, re.M)
    assert client.get("/admin").status_code == 403
    assert "Upload X-rays" not in client.get("/batches").get_data(as_text=True)


def test_admin_changes_are_made_and_audited(client, world: World, world_db: str) -> None:
    login(client, world.emails["admin"])
    token = csrf_token(client, "/admin")
    client.post("/admin/hospitals", data={"code": "LAKE", "name": "Lake Hospital", "district": "Lake",
                                          "region": "Highlands", "csrf_token": token})
    client.post("/admin/users", data={"email": "lake@example.org", "role": "staff", "hospital": "LAKE",
                                      "password": "long-enough-pw", "csrf_token": token})
    created = client.post("/admin/tokens", data={"email": "lake@example.org", "name": "pacs", "csrf_token": token})
    secret = re.search(r"(osteo_[A-Za-z0-9_-]{20,})", created.get_data(as_text=True)).group(1)
    assert client.get("/api/v1/batches", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    client.post("/admin/tokens/revoke", data={"prefix": secret[:12], "csrf_token": token})
    assert client.get("/api/v1/batches", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    with session_scope(world_db) as session:
        session.add(ModelVersion(id="mv-test-0002", name="fusion-next", card={"name": "fusion-next"}))
    assert "fusion-next" in client.get("/admin/models/mv-test-0002").get_data(as_text=True)
    client.post("/admin/models/activate", data={"id": "mv-test-0002", "csrf_token": token})
    assert "fusion-next" in client.get("/admin").get_data(as_text=True)
    with session_scope(world_db) as session:
        assert session.scalar(select(Hospital).where(Hospital.code == "LAKE")) is not None
        assert session.get(ModelVersion, "mv-test-0002").active and not session.get(ModelVersion, MODEL_ID).active
        assert session.scalar(select(ApiToken).where(ApiToken.prefix == secret[:12])).revoked_at is not None
        session.get(ModelVersion, MODEL_ID).active = True
        session.get(ModelVersion, "mv-test-0002").active = False
        actions = set(session.scalars(select(AuditEvent.action)))
    assert {"admin.hospital.add", "admin.user.add", "admin.token.create", "admin.token.revoke",
            "model.promote", "login.success"} <= actions


def test_logout_ends_the_session(client, world: World) -> None:
    login(client, world.emails["staff_north"])
    client.post("/logout", data={"csrf_token": csrf_token(client, "/batches")})
    assert client.get("/batches").status_code == 302
