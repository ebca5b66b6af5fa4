"""The hospital's own patient id (issue 15, item 1): encrypted at rest, shown only to that hospital's staff.

A real batch goes through the real pipeline on PostgreSQL (tiny model, everyone
referred so the referral lists are filled), with patient ids staff would recognise.
Then: the database holds only Fernet tokens; no object key, stored object or log line
holds an id; staff of the hospital see the ids on pages, in the API, the CSV, the
reports and the batch summary, and find a patient by id; staff of another hospital,
officials and admins see pseudonyms only and cannot probe ids; rotating the key keeps
every id readable.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from screening.accounts import add_hospital, add_user, create_token, get_hospital
from screening.config import Settings, load_settings
from screening.db import Batch, BatchStatus, Patient, Report, schema, session_scope
from screening.db.models import AuditEvent, Role
from screening.identity import UNREADABLE, IdentityCipher, identity_cipher, new_key, rotate_all
from screening.local_runner import screen_locally
from screening.model_registry import load_active_predictor
from screening.pseudonyms import pseudonymise
from screening.sealing import Sealer
from screening.storage import open_store
from tests.factories import make_tiny_bundle, set_patient_ids, write_phantom_archive
from tests.fixtures_services import temporary_database
from tests.integration.web.world import PASSWORD, csrf_token, login
from web import create_app

pytestmark = pytest.mark.integration
IDS = ["MRN-4711-ALPHA", "MRN-4712-BRAVO", "MRN-4713-CHARLIE"]
USERS = {"staff": dict(role=Role.STAFF, hospital_code="DH1"), "other": dict(role=Role.STAFF, hospital_code="DH2"),
         "official": dict(role=Role.OFFICIAL, region="Coast"), "admin": dict(role=Role.ADMIN)}


@dataclass
class Screened:
    settings: Settings
    batch: Batch
    tokens: dict[str, str]
    log_text: str
    pseudonyms: dict[str, str]  # hospital patient id -> pseudonym

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def client(self):  # type: ignore[no-untyped-def]
        app = create_app(self.settings, enqueue=lambda name, args: None,
                         rate_limits={"upload": (1000, 60), "login": (1000, 60), "login_ip": (1000, 60)})
        app.config["TESTING"] = True
        return app.test_client()


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def screened(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Screened]:
    tmp = tmp_path_factory.mktemp("identity")
    with temporary_database() as url:
        settings = load_settings({
            "OSTEO_DATABASE_URL": url, "OSTEO_VAR_DIR": str(tmp / "var"), "OSTEO_STORAGE_DIR": str(tmp / "objects"),
            "OSTEO_MODEL_BUNDLE": str(make_tiny_bundle(tmp / "bundle", refer_threshold=0.0)),
            "OSTEO_CHUNK_SIZE": "4", "OSTEO_PUBLIC_BASE_URL": "http://localhost"})
        schema.upgrade(url)
        tokens = {}
        with session_scope(url) as session:
            add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
            add_hospital(session, "DH2", "District Hospital Two", "South", "Coast")
            for who, scope in USERS.items():
                user = add_user(session, f"{who}@example.org", password=PASSWORD, **scope)
                tokens[who] = create_token(session, user, "tests").secret
            hospital = get_hospital(session, "DH1")
        archive = write_phantom_archive(tmp / "ward.zip", len(IDS), seed=21)
        set_patient_ids(archive, IDS)
        collect = _Collect()
        root = logging.getLogger()
        level = root.level
        root.addHandler(collect)
        root.setLevel(logging.DEBUG)
        try:
            batch = screen_locally(settings, open_store(settings), hospital, archive,
                                   lambda: load_active_predictor(settings), reports=True)
        finally:
            root.removeHandler(collect)
            root.setLevel(level)
        assert batch.status is BatchStatus.COMPLETE, batch.error
        pseudonyms = {raw: pseudonymise(settings.pseudonym_secret, "DH1", raw) for raw in IDS}
        yield Screened(settings, batch, tokens, "\n".join(collect.lines), pseudonyms)


def _mentions(text: str) -> list[str]:
    return [raw for raw in IDS if raw in text]


def test_the_id_is_stored_encrypted_and_nowhere_else(screened: Screened) -> None:
    cipher = identity_cipher(screened.settings)
    with session_scope(screened.settings.database_url) as session:
        patients = list(session.scalars(select(Patient)))
        audit = [str(e.details) for e in session.scalars(select(AuditEvent))]
    assert sorted(p.pseudonym for p in patients) == sorted(screened.pseudonyms.values())
    for patient in patients:
        assert patient.identifier is not None and patient.identifier.startswith("gAAAAA")  # a Fernet token
        assert _mentions(patient.identifier) == []
        assert screened.pseudonyms[cipher.decrypt(patient.identifier)] == patient.pseudonym
    store_root = Path(screened.settings.storage_dir)
    objects = [path for path in store_root.rglob("*") if path.is_file()]
    assert any(path.suffix == ".pdf" for path in objects) and any("summary" in path.name for path in objects)
    for path in objects:
        assert _mentions(str(path.relative_to(store_root))) == [], path
        if path.suffix in (".html", ".csv"):
            assert _mentions(path.read_text("utf-8")) == [], path
    assert "batch=" in screened.log_text  # the pipeline did log
    assert _mentions(screened.log_text) == [] and _mentions(" ".join(audit)) == []


def test_staff_of_the_hospital_see_their_ids_on_pages_api_csv_and_reports(screened: Screened) -> None:
    client, auth, batch_id = screened.client(), screened.auth("staff"), screened.batch.id
    results = client.get(f"/api/v1/batches/{batch_id}/results", headers=auth).json["items"]
    assert sorted(r["hospital_patient_id"] for r in results) == sorted(IDS)
    assert all(screened.pseudonyms[r["hospital_patient_id"]] == r["patient"] for r in results)
    text = client.get(f"/api/v1/batches/{batch_id}/results?format=csv", headers=auth).get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO("\n".join(text.splitlines()[1:]))))
    assert sorted(row["hospital_patient_id"] for row in rows) == sorted(IDS)
    pseudonym = screened.pseudonyms[IDS[0]]
    history = client.get(f"/api/v1/patients/{pseudonym}", headers=auth).json
    assert history["hospital_patient_id"] == IDS[0]
    found = client.post("/api/v1/patients/lookup", json={"id": f"  {IDS[1]} "}, headers=auth)
    assert found.status_code == 200 and found.json["pseudonym"] == screened.pseudonyms[IDS[1]]
    assert client.post("/api/v1/patients/lookup", json={"id": "MRN-0000"}, headers=auth).status_code == 404

    with session_scope(screened.settings.database_url) as session:
        report = session.scalar(select(Report).join(Patient, Patient.id == Report.patient_id)
                                .where(Patient.pseudonym == pseudonym))
        stored_pdf = open_store(screened.settings).get_bytes(report.pdf_key)
    html = client.get(f"/api/v1/reports/{report.id}.html", headers=auth).get_data(as_text=True)
    assert IDS[0] in html and pseudonym in html and "DXA" in html
    pdf = client.get(f"/api/v1/reports/{report.id}.pdf", headers=auth)
    assert pdf.status_code == 200 and pdf.data != stored_pdf
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert IDS[0] in pdf_text
    summary = client.get(f"/api/v1/batches/{batch_id}/summary", headers=auth).get_data(as_text=True)
    assert sorted(_mentions(summary)) == sorted(IDS)  # every patient was referred

    login(client, "staff@example.org")
    for path in ("/patients", "/patients?referred=1", f"/batches/{batch_id}", f"/patients/{pseudonym}"):
        page = client.get(path).get_data(as_text=True)
        assert IDS[0] in page, path
    opened = client.post("/patients/find", data={"q": IDS[2], "csrf_token": csrf_token(client, "/patients")})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/patients/{screened.pseudonyms[IDS[2]]}")


@pytest.mark.parametrize("who", ["other", "official", "admin"])
def test_others_see_pseudonyms_only_and_cannot_probe_ids(screened: Screened, who: str) -> None:
    client, auth, batch_id = screened.client(), screened.auth(who), screened.batch.id
    pseudonym = screened.pseudonyms[IDS[0]]
    for raw in IDS:  # a lookup by id is a 404 for everyone but the hospital's staff
        assert client.post("/api/v1/patients/lookup", json={"id": raw}, headers=auth).status_code == 404
    if who == "other":  # another hospital sees nothing of this one
        assert client.get(f"/api/v1/batches/{batch_id}", headers=auth).status_code == 404
        assert client.get(f"/api/v1/patients/{pseudonym}", headers=auth).status_code == 404
        return
    seen = [client.get(f"/api/v1/batches/{batch_id}/results", headers=auth).get_data(as_text=True),
            client.get(f"/api/v1/batches/{batch_id}/results?format=csv", headers=auth).get_data(as_text=True),
            client.get(f"/api/v1/patients/{pseudonym}", headers=auth).get_data(as_text=True),
            client.get(f"/api/v1/batches/{batch_id}/summary", headers=auth).get_data(as_text=True),
            client.get("/api/v1/summary", headers=auth).get_data(as_text=True)]
    assert client.post("/api/v1/patients/lookup", json={"id": pseudonym}, headers=auth).status_code == 200
    assert all(r["hospital_patient_id"] is None
               for r in client.get(f"/api/v1/batches/{batch_id}/results", headers=auth).json["items"])
    with session_scope(screened.settings.database_url) as session:
        report_ids = list(session.scalars(select(Report.id)))
    for report_id in report_ids:
        seen.append(client.get(f"/api/v1/reports/{report_id}.html", headers=auth).get_data(as_text=True))
        pdf = client.get(f"/api/v1/reports/{report_id}.pdf", headers=auth).data
        seen.append("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
    login(client, f"{who}@example.org")
    for path in ("/overview", "/overview.csv", "/patients", f"/batches/{batch_id}", f"/patients/{pseudonym}"):
        response = client.get(path)
        assert response.status_code == 200, path
        seen.append(response.get_data(as_text=True))
    assert pseudonym in seen[0] and pseudonym in seen[2]
    assert [_mentions(text) for text in seen] == [[] for _ in seen]
    refused = client.post("/patients/find", data={"q": IDS[0], "csrf_token": csrf_token(client, "/patients")})
    assert refused.status_code == 302 and "/patients/P" not in refused.headers["Location"]


def test_key_rotation_keeps_every_id_readable(screened: Screened) -> None:
    old = screened.settings.identifier_key
    rotated_settings = replace(screened.settings, identifier_key=f"{new_key()},{old}")
    with session_scope(screened.settings.database_url) as session:
        before = dict(session.execute(select(Patient.id, Patient.identifier)).all())
        counts = rotate_all(session, Sealer.from_settings(rotated_settings))
    assert counts["patients"] == (len(IDS), 0)
    newest = rotated_settings.identifier_key.split(",")[0]
    with session_scope(screened.settings.database_url) as session:
        after = dict(session.execute(select(Patient.id, Patient.identifier)).all())
    assert all(after[pid] != before[pid] for pid in before)
    assert sorted(IdentityCipher(Sealer(newest)).decrypt(token) for token in after.values()) == sorted(IDS)
    assert IdentityCipher(Sealer(old)).decrypt(next(iter(after.values()))) == UNREADABLE  # the old key alone: no
    with session_scope(screened.settings.database_url) as session:  # put the original tokens back
        for pid, token in before.items():
            session.get_one(Patient, pid).identifier = token
