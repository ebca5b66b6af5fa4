"""Metacarpal radiogrammetry through the real pipeline (embedded default): ingest, report, API, CSV, overlay.

Phantom hands at 1280 px (their stored copies are shrunk to 1024 px) with the generator's
ground truth: every readable hand is measured on its full-resolution crop, eligible or not,
with the manifest's pixel spacing; an invalid spacing rejects its row with the reason; the
patient report carries the "Measured bone" section; the results JSON and CSV carry the
values; the overlay is served like the Grad-CAM overlays. A measurement that breaks never
fails the file.
"""

from __future__ import annotations

import csv
import io
import logging

import pytest
from sqlalchemy import select

from screening.accounts import add_user, create_token
from screening.anatomy.radiogrammetry import METHOD_VERSION
from screening.db import BatchStatus, Image, Prediction, Quality, Report, session_scope
from screening.db.models import Role
from screening.measurement import INTERNAL_ERROR
from screening.storage import open_store
from tests.factories import write_phantom_archive
from tests.integration.web.world import PASSWORD
from tests.measurements import check_against_truth, expected_columns, phantom_truth, png_size
from tests.unit.pipeline.conftest import screen
from web import create_app

SIZE, SEED, COUNT = 1280, 7, 5  # hands 0-2 of seed 7 are measured by radiogrammetry-1.2 and 1.3, 3 and 4 refused
SPACING = 0.08
NOT_ELIGIBLE, BAD_SPACING = 1, 3
# Image 1's patient is 34 (outside the screening population); image 3's row gives an impossible spacing.
OVERRIDES = {i: {"pixel_spacing_mm": str(SPACING)} for i in range(COUNT)} | {
    NOT_ELIGIBLE: {"age_years": "34", "pixel_spacing_mm": str(SPACING)}, BAD_SPACING: {"pixel_spacing_mm": "3"}}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return write_phantom_archive(tmp_path_factory.mktemp("rg") / "ward.zip", COUNT, seed=SEED, size=SIZE,
                                 overrides=OVERRIDES)


def _client(settings):  # type: ignore[no-untyped-def]
    with session_scope(settings.database_url) as session:
        user = add_user(session, "nurse@dh1.example", Role.STAFF, password=PASSWORD, hospital_code="DH1")
        secret = create_token(session, user, "test").secret
    app = create_app(settings, enqueue=lambda name, args: None)
    return app.test_client(), {"Authorization": f"Bearer {secret}"}


def test_every_readable_hand_is_measured_at_full_resolution_and_shown(embedded, archive):
    batch = screen(embedded, archive, reports=True)
    assert batch.status is BatchStatus.COMPLETE, batch.error
    store = open_store(embedded)
    with session_scope(embedded.database_url) as session:
        images = {i.filename: i for i in session.scalars(select(Image).where(Image.batch_id == batch.id))}
        predicted = set(session.scalars(select(Prediction.image_id).where(Prediction.batch_id == batch.id)))
        reports = {r.patient_id: r for r in session.scalars(select(Report).where(Report.batch_id == batch.id))}
        session.expunge_all()
    names = sorted(images)
    bad_spacing = images[names[BAD_SPACING]]
    assert bad_spacing.quality is Quality.REJECTED and bad_spacing.measured is None
    assert "pixel_spacing_mm must be between" in bad_spacing.quality_reason and "'3'" in bad_spacing.quality_reason
    readable = [images[n] for n in names if n != names[BAD_SPACING]]
    not_eligible = images[names[NOT_ELIGIBLE]]
    assert not_eligible.eligible is False and not_eligible.id not in predicted
    for image in readable:
        assert image.radiogrammetry_version == METHOD_VERSION and image.measured is not None
        assert set(image.measurement) >= {"reason", "index_name", "index_value", "pixel_spacing_mm", "bones"}
        assert [b["bone"] for b in image.measurement["bones"]] == ["MC2", "MC3", "MC4"]
        # Exactly the measurement of the file's full-resolution hand crop, in the file's frame, in mm.
        stored = {key: getattr(image, key) for key in ("radiogrammetry_version", "measured", "cortical_index",
                                                        "cortical_thickness_mm", "measurement")}
        assert stored == expected_columns(archive, image, SPACING), image.filename
        if image.measured:
            assert image.cortical_thickness_mm is not None and 0 < image.cortical_index < 1
            assert all(b["unit"] == "mm" for b in image.measurement["bones"])
            assert image.measurement_overlay_key == f"overlays/{batch.id}/{image.id}/measurement.png"
            width, height = png_size(store.get_bytes(image.measurement_overlay_key))
            x0, y0, x1, y1 = image.hand_box
            assert max(width, height) <= 1024 and abs(width / height - (x1 - x0) / (y1 - y0)) < 0.01
        else:
            assert image.measurement["reason"] and image.measurement_overlay_key is None
    measured = [i for i in readable if i.measured]
    assert measured, "no phantom hand was measured: the checks below would prove nothing"
    assert check_against_truth(measured, phantom_truth(COUNT, SEED, SIZE), SIZE) >= 2

    # The patient report of a measured, screened hand has the section, values and the cited cut-off.
    screened = next((i for i in measured if i.id in predicted), None)
    if screened is not None:
        html = store.get_bytes(reports[screened.patient_id].html_key).decode()
        for expected in ("Measured bone", f"{100 * screened.cortical_index:.1f} %", "Schreiber",
                         "without a category", "What this measurement cannot tell", METHOD_VERSION):
            assert expected in html, expected

    client, auth = _client(embedded)
    body = client.get(f"/api/v1/batches/{batch.id}/results", headers=auth).get_json()
    by_name = {item["filename"]: item for item in body["items"]}
    for image in readable:
        item = by_name[image.filename]
        assert item["measured"] is image.measured and item["cortical_index"] == image.cortical_index
        assert item["cortical_thickness_mm"] == image.cortical_thickness_mm
        assert item["radiogrammetry_version"] == METHOD_VERSION
        assert item["measurement_reason"] == (image.measurement["reason"] or None)
        assert item["measurement"]["bones"] == image.measurement["bones"]
        assert item["measurement"]["pixel_spacing_mm"] == SPACING
        if image.measured:
            overlay = client.get(item["links"]["measurement_overlay"], headers=auth)
            assert overlay.status_code == 200 and overlay.mimetype == "image/png"
            assert overlay.headers["Content-Security-Policy"].startswith("sandbox")
    assert by_name[not_eligible.filename]["class"] is None  # measured, never classed
    assert by_name[bad_spacing.filename]["measured"] is None

    text = client.get(f"/api/v1/batches/{batch.id}/results?format=csv", headers=auth).get_data(as_text=True)
    rows = {r["filename"]: r for r in csv.DictReader(io.StringIO(text.split("\n", 1)[1]))}
    for image in readable:
        row = rows[image.filename]
        assert row["measured"] == ("yes" if image.measured else "no")
        assert row["radiogrammetry_version"] == METHOD_VERSION
        if image.measured:
            assert float(row["cortical_index"]) == pytest.approx(image.cortical_index, abs=1e-4)
            assert float(row["cortical_thickness_mm"]) == pytest.approx(image.cortical_thickness_mm, abs=1e-3)
        else:
            assert row["cortical_index"] == "" and row["measurement_reason"]


def test_a_measurement_that_breaks_never_fails_the_file(embedded, tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("numerical trouble")

    monkeypatch.setattr("screening.measurement.measure_hand", broken)
    archive = write_phantom_archive(tmp_path / "day.zip", 2, seed=3, size=320)
    with caplog.at_level(logging.ERROR, logger="screening.measurement"):
        batch = screen(embedded, archive)
    assert batch.status is BatchStatus.COMPLETE and batch.screened == 2, batch.error
    with session_scope(embedded.database_url) as session:
        images = list(session.scalars(select(Image).where(Image.batch_id == batch.id)))
        for image in images:
            assert image.quality is Quality.ACCEPTED and image.error is None
            assert image.measured is False and image.cortical_index is None
            assert image.measurement["reason"] == INTERNAL_ERROR and image.measurement_overlay_key is None
            assert all(b["reason"] == INTERNAL_ERROR for b in image.measurement["bones"])
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "radiogrammetry failed unexpectedly" in logged
        for image in images:  # no file name, no patient in the log
            assert image.filename not in logged and image.filename.rsplit("/", 1)[-1] not in logged


def test_dicom_pixel_spacing_is_used_and_wins_over_the_manifest(embedded, tmp_path):
    """A DICOM hand's own PixelSpacing gives millimetres; a manifest value for it does not override the file."""
    import zipfile

    import numpy as np

    from tests.unit.imaging.conftest import dicom_bytes
    from training.phantoms import image_rng, plan_dataset, render_phantom

    def hand_dicom(index: int, **tags: object) -> bytes:
        spec = plan_dataset(index + 1, SEED, min_age_years=60)[index]
        pixels = render_phantom(spec.patient, spec.image_number, 512, image_rng(SEED, spec))
        return dicom_bytes(np.round(pixels * 4095).astype(np.uint16), PatientAge="067Y", PatientSex="F", **tags)

    archive = tmp_path / "pacs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tags-only.dcm", hand_dicom(0, PatientID="D-1", PixelSpacing=[0.14, 0.14]))
        zf.writestr("also-in-manifest.dcm", hand_dicom(1, PatientID="D-2", ImagerPixelSpacing=[0.2, 0.2]))
        zf.writestr("no-spacing.dcm", hand_dicom(2, PatientID="D-3"))
        zf.writestr("manifest.csv", "file,patient_id,age_years,sex,pixel_spacing_mm\n"
                                    "also-in-manifest.dcm,D-2,67,F,0.1\nno-spacing.dcm,D-3,67,F,0.125\n")
    batch = screen(embedded, archive)
    with session_scope(embedded.database_url) as session:
        images = {i.filename: i for i in session.scalars(select(Image).where(Image.batch_id == batch.id))}
        spacings = {name: image.measurement["pixel_spacing_mm"] for name, image in images.items()}
        units = {name: {b["unit"] for b in image.measurement["bones"]} for name, image in images.items()}
    assert spacings == {"tags-only.dcm": 0.14, "also-in-manifest.dcm": 0.2, "no-spacing.dcm": 0.125}
    assert all(unit == {"mm"} for unit in units.values())
