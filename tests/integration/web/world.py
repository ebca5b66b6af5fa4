"""A small, fixed world for the web tests: three hospitals in two regions, one user per role
and scope, one API token each, and finished batches with predictions, overlays and reports.

Built through the real schema (Alembic) and the real account functions, with the
object files really stored, so downloads and scope checks run end to end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from screening.accounts import add_hospital, add_user, create_token
from screening.db.models import (
    Batch,
    BatchStatus,
    DailyHospitalSummary,
    Image,
    ModelVersion,
    Patient,
    Prediction,
    Quality,
    Report,
    RiskClass,
    Role,
)
from screening.followup.rollups import rebuild
from screening.storage import ObjectStore

PASSWORD = "correct-horse-battery"
MODEL_ID = "mv-test-0001"
DAY = date(2024, 3, 1)


@dataclass
class World:
    tokens: dict[str, str] = field(default_factory=dict)  # user key -> bearer secret
    emails: dict[str, str] = field(default_factory=dict)
    batches: dict[str, str] = field(default_factory=dict)  # hospital code -> batch id
    patients: dict[str, str] = field(default_factory=dict)  # hospital code -> pseudonym
    reports: dict[str, int] = field(default_factory=dict)  # hospital code -> report id
    images: dict[str, int] = field(default_factory=dict)  # hospital code -> screened image id

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


USERS = {
    "staff_north": dict(role=Role.STAFF, hospital_code="NORTH"),
    "staff_south": dict(role=Role.STAFF, hospital_code="SOUTH"),
    "official_north": dict(role=Role.OFFICIAL, district="North"),
    "official_coast": dict(role=Role.OFFICIAL, region="Coast"),
    "official_highlands": dict(role=Role.OFFICIAL, region="Highlands"),
    "admin": dict(role=Role.ADMIN),
}
HOSPITALS = [("NORTH", "North District Hospital", "North", "Coast"),
             ("SOUTH", "South District Hospital", "South", "Coast"),
             ("HILL", "Hill Country Hospital", "Hill", "Highlands")]
# Daily summaries per hospital: (screened, normal, osteopenia, osteoporosis, referred, rejected, files)
SUMMARIES = {"NORTH": (10, 5, 3, 2, 3, 2, 12), "SOUTH": (20, 10, 6, 4, 5, 0, 20), "HILL": (4, 4, 0, 0, 0, 1, 5)}


def build(session: Session, store: ObjectStore) -> World:
    world = World()
    hospitals = {code: add_hospital(session, code, name, district, region)
                 for code, name, district, region in HOSPITALS}
    for key, scope in USERS.items():
        user = add_user(session, f"{key}@example.org", password=PASSWORD, name=key.replace("_", " "), **scope)
        world.emails[key] = user.email
        world.tokens[key] = create_token(session, user, "tests").secret
    session.add(ModelVersion(id=MODEL_ID, name="fusion-test", active=True,
                             card={"name": "fusion-test", "backbone": "compact", "input_size": 64}))
    session.flush()
    for code, hospital in hospitals.items():
        _batch(session, store, world, hospital.id, code)
        for offset in range(2):
            screened, normal, osteopenia, osteoporosis, referred, rejected, files = SUMMARIES[code]
            session.add(DailyHospitalSummary(hospital_id=hospital.id, day=DAY + timedelta(days=offset),
                                             screened=screened, normal=normal, osteopenia=osteopenia,
                                             osteoporosis=osteoporosis, referred=referred, rejected=rejected,
                                             files=files))
    session.flush()
    rebuild(session)  # each hospital's screened patient in the figures by people, as finalize would count them
    session.commit()
    return world


def _batch(session: Session, store: ObjectStore, world: World, hospital_id: int, code: str) -> None:
    created = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    batch = Batch(hospital_id=hospital_id, archive_key=f"uploads/{code}/seed.zip", original_filename=f"{code}.zip",
                  status=BatchStatus.COMPLETE, model_version_id=MODEL_ID, files_total=2, accepted=1, rejected=1,
                  screened=1, reported=1, reports_total=1, created_at=created, finished_at=created)
    session.add(batch)
    session.flush()
    pseudonym = f"P{code}0000000000000"[:21]
    patient = Patient(hospital_id=hospital_id, pseudonym=pseudonym, sex="F", latest_class=RiskClass.OSTEOPOROSIS,
                      latest_risk=0.7, latest_referred=True, latest_screened_at=created,
                      latest_model_version_id=MODEL_ID)
    session.add(patient)
    session.flush()
    good = Image(batch_id=batch.id, hospital_id=hospital_id, patient_id=patient.id, filename="hand-1.png",
                 age_months=62 * 12, sex="F", quality=Quality.ACCEPTED, quality_reason="")
    bad = Image(batch_id=batch.id, hospital_id=hospital_id, patient_id=patient.id, filename="blurry.png",
                quality=Quality.REJECTED, quality_reason="image too blurred")
    session.add_all([good, bad])
    session.flush()
    prefix = f"overlays/{batch.id}/{good.id}"
    for name in ("jet", "hot", "viridis", "clahe"):
        store.put_bytes(f"{prefix}/{name}.png", b"\x89PNG fake " + name.encode(), "image/png")
    session.add(Prediction(image_id=good.id, batch_id=batch.id, hospital_id=hospital_id, patient_id=patient.id,
                           model_version_id=MODEL_ID, predicted_class=RiskClass.OSTEOPOROSIS, p_normal=0.1,
                           p_osteopenia=0.2, p_osteoporosis=0.7, referred=True, clahe_key=f"{prefix}/clahe.png",
                           overlay_keys={n: f"{prefix}/{n}.png" for n in ("jet", "hot", "viridis")},
                           created_at=created))
    store.put_bytes(f"reports/{batch.id}/{patient.id}.pdf", b"%PDF-1.4 report of " + code.encode(), "application/pdf")
    store.put_bytes(f"reports/{batch.id}/{patient.id}.html", b"<html>report " + code.encode() + b"</html>",
                    "text/html")
    report = Report(patient_id=patient.id, batch_id=batch.id, model_version_id=MODEL_ID,
                    html_key=f"reports/{batch.id}/{patient.id}.html", pdf_key=f"reports/{batch.id}/{patient.id}.pdf")
    session.add(report)
    session.flush()
    world.batches[code], world.patients[code] = batch.id, pseudonym
    world.reports[code], world.images[code] = report.id, good.id


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
