"""Intended use, end to end through the real pipeline (embedded default) and the web API on its database.

A hospital uploads adults' hand phantoms, a child's hand and (when ../shared is present)
a real knee and a real 2-year-old's hand: the knee is refused with a reason naming the
part, the children are recorded "not eligible" (no prediction, no class, no referral)
and shown so in the API's JSON and CSV, the adults are screened, and nothing of the
children is counted as screened.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from html import unescape
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from screening.accounts import add_user, create_token
from screening.anatomy.prepare import crop_bounds
from screening.cli import cli
from screening.db import BatchStatus, DailyHospitalSummary, Image, Prediction, Quality, Report, session_scope
from screening.db.models import Role
from screening.imaging.stored import decode_normalised_png
from screening.storage import open_store
from tests.factories import write_phantom_archive
from tests.integration.web.world import PASSWORD, login
from tests.unit.pipeline.conftest import screen
from web import create_app

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "xray-samples"
REAL_KNEE = SHARED / "knee-osteoporosis-roboflow" / "test" / "images" / \
    "Normal-106_jpg.rf.c7b349072da5ee18c43262ac97c9c060.jpg"
NURSE = "nurse@dh1.example"
REAL_CHILD_HAND = SHARED / "rsna-boneage-hand" / "images" / "1422.png"  # a 2-year-old's hand (issue 13)


def _archive(tmp_path: Path, adults: int, child_rows: int, extra: dict[str, tuple[bytes, str]],
             seed: int = 13) -> Path:
    """Phantoms whose first ``child_rows`` manifest rows get a child's age, plus ``extra`` files with rows."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    source = write_phantom_archive(tmp_path / "src.zip", adults + child_rows, seed=seed)
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    rows = list(csv.DictReader(io.StringIO(members.pop("manifest.csv").decode())))
    for row in rows[:child_rows]:
        row["age_years"] = "8"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["file", "patient_id", "age_years", "sex"])
    writer.writeheader()
    writer.writerows(rows)
    for name, (data, age) in extra.items():
        members[name] = data
        writer.writerow({"file": name, "patient_id": f"P-{name}", "age_years": age, "sex": "F"})
    members["manifest.csv"] = out.getvalue().encode()
    path = tmp_path / "ward.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _real_files() -> dict[str, tuple[bytes, str]]:
    if not (REAL_KNEE.is_file() and REAL_CHILD_HAND.is_file()):
        return {}
    return {"knee.jpg": (REAL_KNEE.read_bytes(), "70"), "rsna-1422.png": (REAL_CHILD_HAND.read_bytes(), "2")}


def _api_client(settings):  # type: ignore[no-untyped-def]
    with session_scope(settings.database_url) as session:
        user = add_user(session, NURSE, Role.STAFF, password=PASSWORD, hospital_code="DH1")
        secret = create_token(session, user, "test").secret
    app = create_app(settings, enqueue=lambda name, args: None)
    app.config["TESTING"] = True
    return app.test_client(), {"Authorization": f"Bearer {secret}"}


def test_knee_refused_children_not_eligible_adults_screened(embedded, tmp_path):
    real = _real_files()
    batch = screen(embedded, _archive(tmp_path, adults=3, child_rows=1, extra=real), reports=True)
    assert batch.status is BatchStatus.COMPLETE, batch.error
    children = 1 + ("rsna-1422.png" in real)
    assert (batch.screened, batch.accepted, batch.not_eligible) == (3, 3, children)
    assert batch.rejected == ("knee.jpg" in real)

    with session_scope(embedded.database_url) as session:
        images = {i.filename: i for i in session.scalars(select(Image).where(Image.batch_id == batch.id))}
        predicted = set(session.scalars(select(Prediction.image_id).where(Prediction.batch_id == batch.id)))
        reported = set(session.scalars(select(Report.patient_id).where(Report.batch_id == batch.id)))
        day = session.scalars(select(DailyHospitalSummary)).one()
        pseudonyms = {i.id: i.patient.pseudonym for i in images.values() if i.patient is not None}
    not_eligible = [i for i in images.values() if i.eligible is False]
    assert len(not_eligible) == children
    for image in not_eligible:
        assert image.id not in predicted and image.patient_id not in reported  # no class, no report
        assert image.eligibility_reason.startswith("not eligible: age ")
        assert "minimum of 50 years" in image.eligibility_reason
    adults = [i for i in images.values() if i.eligible]
    assert len(adults) == 3 and all(i.id in predicted for i in adults)
    assert all(i.gate_version and i.body_part == "hand_wrist" and len(i.hand_box) == 4 for i in adults)
    store = open_store(embedded)
    for image in adults:  # what is stored (and screened) is the square hand region, not the film
        x0, y0, x1, y1 = crop_bounds(tuple(image.hand_box), image.width, image.height)
        assert x0 <= image.hand_box[0] and image.hand_box[2] <= x1 and x1 - x0 == y1 - y0
        assert decode_normalised_png(store.get_bytes(image.storage_key)).shape == (y1 - y0, x1 - x0)
    assert (day.screened, day.not_eligible) == (3, children)  # the children are not screened-negative
    if real:
        knee = images["knee.jpg"]
        assert knee.quality is Quality.REJECTED and "knee" in knee.quality_reason and knee.hand_box is None
        assert knee.body_part == "leg_knee_foot" and knee.id not in predicted
        toddler = images["rsna-1422.png"]
        assert toddler.eligible is False and "age 2 years" in toddler.eligibility_reason
        x0, y0, x1, y1 = toddler.hand_box  # in the file's own pixels (757 x 1022)
        assert 0 <= x0 < x1 <= toddler.width == 757 and 0 <= y0 < y1 <= toddler.height == 1022

    client, auth = _api_client(embedded)
    results = client.get(f"/api/v1/batches/{batch.id}/results?limit=100", headers=auth).get_json()["items"]
    by_name = {r["filename"]: r for r in results}
    for image in not_eligible:
        shown = by_name[image.filename]
        assert shown["eligible"] is False and shown["eligibility_reason"] == image.eligibility_reason
        assert shown["class"] is None and shown["referred"] is None and shown["probabilities"] is None
    assert all(by_name[i.filename]["eligible"] is True and by_name[i.filename]["class"] for i in adults)
    counts = client.get(f"/api/v1/batches/{batch.id}", headers=auth).get_json()["counts"]
    assert counts["not_eligible"] == children and counts["screened"] == 3

    text = client.get(f"/api/v1/batches/{batch.id}/results?format=csv", headers=auth).get_data(as_text=True)
    rows = {r["filename"]: r for r in csv.DictReader(text.splitlines()[1:])}
    for image in not_eligible:
        row = rows[image.filename]
        assert (row["eligible"], row["class"], row["referred"]) == ("no", "", "")
        assert row["eligibility_reason"] == image.eligibility_reason
    assert {rows[i.filename]["eligible"] for i in adults} == {"yes"}

    login(client, NURSE)
    page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
    assert page.count("data-not-eligible") == children and not_eligible[0].eligibility_reason in unescape(page)
    child = pseudonyms[not_eligible[0].id]
    child_page = client.get(f"/patients/{child}").get_data(as_text=True)
    assert "Not eligible" in child_page and "Refer for DXA" not in child_page
    history = client.get(f"/api/v1/patients/{child}", headers=auth).get_json()
    assert history["history"] == [] and history["latest"]["class"] is None
    assert [n["reason"] for n in history["not_eligible"]] == [not_eligible[0].eligibility_reason]


def test_a_batch_of_children_only_needs_attention_and_the_cli_says_how_many(embedded, tmp_path):
    archive = _archive(tmp_path, adults=0, child_rows=2, extra={})
    result = CliRunner().invoke(cli, ["screen", str(archive), "--hospital", "DH1"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "status:   needs_attention" in result.output
    assert "2 not eligible" in result.output and "not eligible: 2 images" in result.output
    assert "nothing could be screened" in result.output and "minimum of 50 years" in result.output


def test_the_minimum_age_comes_from_settings(embedded, tmp_path):
    default = screen(embedded, _archive(tmp_path / "a", adults=2, child_rows=0, seed=14,
                                        extra={"forty-five.png": (_phantom_bytes(tmp_path, 77), "45")}))
    assert (default.screened, default.not_eligible) == (2, 1), default.error
    forty = screen(replace(embedded, screening_min_age_years=40),
                   _archive(tmp_path / "b", adults=2, child_rows=0, seed=15,
                            extra={"forty-five.png": (_phantom_bytes(tmp_path, 78), "45")}))
    assert (forty.screened, forty.not_eligible) == (3, 0), forty.error


def _phantom_bytes(tmp_path: Path, seed: int) -> bytes:
    with zipfile.ZipFile(write_phantom_archive(tmp_path / f"one-{seed}.zip", 1, seed=seed)) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith(".png")))
