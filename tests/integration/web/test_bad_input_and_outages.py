"""Bad input is a 4xx, never a 500; outages are a 503 with Retry-After; /readyz names what is down
without exposing credentials (issue 12, item 10)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from screening.faults import BrokerUnavailable
from screening.storage import LocalObjectStore, S3ObjectStore, StorageUnavailable
from tests.conftest import free_port
from tests.integration.web.conftest import web_settings
from tests.integration.web.test_api_batches import small_zip
from tests.integration.web.world import World, csrf_token, login
from web import create_app

pytestmark = pytest.mark.integration
HUGE = "99999999999999999999"


def _uploads(app) -> set[str]:  # type: ignore[no-untyped-def]
    root = Path(app.extensions["osteo"].store.root) / "objects" / "uploads"
    return {str(p) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.mark.parametrize("path", [
    "/api/v1/batches/ab%00cd", "/api/v1/batches/%00/results", "/api/v1/patients/P%00X",
    "/api/v1/batches?hospital=NO%00RTH", "/api/v1/batches?status=%00", "/api/v1/summary?district=a%00b",
    "/api/v1/summary?region=%00", "/api/v1/reports/1.p%00df", "/api/v1/images/1/overlay/j%00et",
    f"/api/v1/reports/{HUGE}.pdf", f"/api/v1/reports/{HUGE}.html", f"/api/v1/images/{HUGE}/overlay/jet",
    "/api/v1/reports/2147483648.pdf", "/api/v1/images/2147483648/overlay/clahe",
    f"/api/v1/batches?limit={HUGE}", f"/api/v1/batches?offset={HUGE}",
])
def test_hostile_api_requests_are_4xx(client, world: World, path: str) -> None:
    response = client.get(path, headers=world.auth("admin"))
    assert 400 <= response.status_code < 500, (path, response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("path", [
    "/batches/ab%00cd", "/patients/P%00X", "/hospitals/NO%00RTH", "/admin/models/mv%00",
    "/overview?district=%00", "/overview?region=a%00", "/batches?page=%00", f"/batches?page={HUGE}",
    "/batches?page=%C2%B2", "/patients?referred=%00", "/hospitals/NORTH?from=2024-01-01%00",
])
def test_hostile_page_requests_are_4xx(client, world: World, path: str) -> None:
    login(client, world.emails["admin"])
    response = client.get(path)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert "Screening aid, not a diagnosis" in response.get_data(as_text=True)  # the friendly error page


def test_nul_in_the_login_email_is_4xx(client, world: World) -> None:
    response = client.post("/login", data={"email": "staff_north\x00@example.org", "password": "x",
                                           "csrf_token": csrf_token(client)})
    assert 400 <= response.status_code < 500


def test_nul_in_a_multipart_filename_is_4xx_and_stores_nothing(app, client, world: World, enqueued) -> None:
    before = _uploads(app)
    api = client.post("/api/v1/batches", headers=world.auth("staff_north"),
                      data={"archive": (io.BytesIO(small_zip()), "mon\x00day.zip")})
    assert 400 <= api.status_code < 500 and api.mimetype == "application/problem+json"
    login(client, world.emails["staff_north"])
    form = client.post("/batches", data={"archive": (io.BytesIO(small_zip()), "tue\x00sday.zip"),
                                         "csrf_token": csrf_token(client, "/batches")})
    assert 300 <= form.status_code < 500
    assert _uploads(app) == before and enqueued == []


class DownStore(LocalObjectStore):
    """The object store during an outage: every read and write fails as unreachable."""

    def _down(self, *args: object, **kwargs: object) -> None:
        raise StorageUnavailable("cannot reach the S3 endpoint http://10.0.0.5:9000 (bucket 'osteo-secret')")

    open = exists = size = put_bytes = put_stream = content_type = get_bytes = _down  # type: ignore[assignment]


def _assert_outage(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, (what, response.status_code, response.get_data(as_text=True)[:300])
    assert int(response.headers["Retry-After"]) > 0, what
    body = response.get_data(as_text=True)
    for secret in ("10.0.0.5", "osteo-secret", "127.0.0.1:1", "OperationalError"):
        assert secret not in body, (what, secret)


def test_object_store_outage_is_503(world: World, world_db: str, tmp_path: Path) -> None:
    settings = web_settings(world_db, tmp_path)
    app = create_app(settings, enqueue=lambda *a: None, store=DownStore(tmp_path / "objects"),
                     rate_limits={"upload": (1000, 60), "login": (1000, 60), "login_ip": (1000, 60)})
    client = app.test_client()
    auth = world.auth("staff_north")
    _assert_outage(client.get(f"/api/v1/reports/{world.reports['NORTH']}.pdf", headers=auth), "report")
    _assert_outage(client.get(f"/api/v1/images/{world.images['NORTH']}/overlay/jet", headers=auth), "overlay")
    _assert_outage(client.post("/api/v1/batches", data=small_zip(), content_type="application/zip", headers=auth),
                   "upload")


def test_database_outage_is_503_for_the_api_and_the_pages(tmp_path: Path) -> None:
    client = create_app(web_settings("postgresql://postgres@127.0.0.1:1/none", tmp_path),
                        enqueue=lambda *a: None).test_client()
    _assert_outage(client.get("/api/v1/batches", headers={"Authorization": "Bearer osteo_x"}), "api")
    page = client.get("/login")
    _assert_outage(page, "login page")
    assert "Screening aid, not a diagnosis" in page.get_data(as_text=True)


def test_broker_outage_is_503(app, client, world: World) -> None:
    def enqueue(name: str, args: tuple) -> None:
        raise BrokerUnavailable("redis://:pw@10.0.0.5:6379/0 refused the connection")
    app.extensions["osteo"].enqueue = enqueue
    response = client.post("/api/v1/batches", data=small_zip(), content_type="application/zip",
                           headers=world.auth("staff_north"))
    _assert_outage(response, "upload with the broker down")


def test_redis_outage_on_login_is_503(world: World, world_db: str, tmp_path: Path) -> None:
    settings = web_settings(world_db, tmp_path, redis_url=f"redis://:hunter2@127.0.0.1:{free_port()}/0")
    client = create_app(settings, enqueue=lambda *a: None).test_client()
    response = client.post("/login", data={"email": world.emails["staff_north"], "password": "x",
                                           "csrf_token": csrf_token(client)})
    _assert_outage(response, "login with the rate limiter's Redis down")
    assert "hunter2" not in response.get_data(as_text=True)


def test_readyz_checks_redis_and_names_what_is_down_without_secrets(world: World, world_db: str,
                                                                     tmp_path: Path, redis_url: str) -> None:
    up = create_app(web_settings(world_db, tmp_path, redis_url=redis_url), enqueue=lambda *a: None).test_client()
    ready = up.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["redis"] == "ok"
    port = free_port()
    down_store = S3ObjectStore("osteo-private", f"http://127.0.0.1:{port}", "AKIAEXAMPLE", "s3-top-secret")
    down = create_app(web_settings(world_db, tmp_path, redis_url=f"redis://:hunter2@127.0.0.1:{port}/0"),
                      enqueue=lambda *a: None, store=down_store).test_client()
    response = down.get("/readyz")
    assert response.status_code == 503
    checks = response.json["checks"]
    assert checks["redis"].startswith("unavailable") and checks["object_store"].startswith("unavailable")
    assert checks["database"] == "ok"
    body = response.get_data(as_text=True)
    for secret in ("hunter2", "s3-top-secret", "AKIAEXAMPLE", "osteo-private", str(port)):
        assert secret not in body, secret


def test_overlong_admin_form_values_are_refused_with_a_message(client, world: World) -> None:
    login(client, world.emails["admin"])
    token = csrf_token(client, "/admin")
    forms = {"/admin/hospitals": {"code": "X" * 40, "name": "Long", "district": "D", "region": "R"},
             "/admin/users": {"email": "a" * 300 + "@example.org", "role": "admin", "password": "long-enough-pw"},
             "/admin/tokens": {"email": world.emails["staff_north"], "name": "n" * 300}}
    for path, data in forms.items():
        response = client.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 302, (path, response.status_code)
        assert "characters" in client.get("/admin").get_data(as_text=True), path
