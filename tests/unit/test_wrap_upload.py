"""A single image or a folder becomes an archive the batch pipeline reads like any upload."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest

from screening.archives import parse_manifest
from screening.wrap_upload import StudyFields, StudyFieldsError, folder_archive, single_image_archive
from tests.factories import phantom_dicom, phantom_png


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    return phantom_png(tmp_path_factory.mktemp("hand"), seed=3)[0]


def _wrap(data: bytes, filename: str | None, **fields: str) -> tuple[dict[str, bytes], dict[str, str]]:
    target = io.BytesIO()
    wrapped = single_image_archive(io.BytesIO(data), filename, StudyFields(**fields), target)
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    row = next(csv.DictReader(io.StringIO(members["manifest.csv"].decode())))
    assert row["file"] == wrapped.member
    return members, row


def test_a_png_with_its_fields_becomes_image_plus_one_manifest_row(hand):
    members, row = _wrap(hand.read_bytes(), "left hand.png", age_years="64.5", sex="female", patient_id="MRN 7")
    assert members["left hand.png"] == hand.read_bytes()
    assert (row["patient_id"], row["age_years"], row["sex"]) == ("MRN 7", "64.5", "female")
    parsed = parse_manifest(members["manifest.csv"])
    assert parsed.rows["left hand.png"].age_months == 774 and parsed.rows["left hand.png"].sex == "F"


def test_without_a_patient_id_the_image_content_names_the_patient(hand):
    _, first = _wrap(hand.read_bytes(), "a.png", age_years="70", sex="M")
    _, again = _wrap(hand.read_bytes(), "b.png", age_years="70", sex="M")
    assert first["patient_id"].startswith("image-sha256-") and first["patient_id"] == again["patient_id"]


def test_dicom_tags_fill_what_the_fields_leave_out(hand):
    dicom = phantom_dicom(hand, patient_id="MRN-9", age_years=72, sex="M")
    _, row = _wrap(dicom, "IM0001", age_years="")
    assert (row["patient_id"], row["age_months"], row["sex"], row["study_date"]) == ("MRN-9", "864", "M", "2024-03-01")
    _, override = _wrap(dicom, None, age_years="60", sex="F")
    assert (override["age_years"], override["sex"], override["patient_id"]) == ("60", "F", "MRN-9")


@pytest.mark.parametrize(("fields", "message"), [
    ({"sex": "F"}, "age is needed"),
    ({"age_years": "66"}, "sex is needed"),
    ({"age_years": "sixty", "sex": "F"}, "age_years must be a number"),
    ({"age_years": "66", "sex": "X"}, "sex must be F or M"),
    ({"age_years": "200", "sex": "F"}, "age out of range"),
    ({"age_years": "66", "sex": "F", "study_date": "1/2/2024"}, "study_date must be YYYY-MM-DD"),
])
def test_missing_or_malformed_fields_are_refused_with_a_sentence(hand, fields, message):
    with pytest.raises(StudyFieldsError, match=message):
        _wrap(hand.read_bytes(), "x.png", **fields)


def test_what_is_not_an_image_is_refused(hand):
    with pytest.raises(StudyFieldsError, match="not a PNG, JPEG or DICOM"):
        _wrap(b"%PDF-1.4 not an x-ray", "x.pdf", age_years="60", sex="F")
    with pytest.raises(StudyFieldsError, match="empty"):
        _wrap(b"", "x.png", age_years="60", sex="F")


def test_hostile_names_are_replaced(hand):
    members, _ = _wrap(hand.read_bytes(), "../../etc/manifest.csv", age_years="60", sex="F")
    assert set(members) == {"manifest.csv", "image.png"}


def test_a_folder_keeps_its_layout_and_manifest_and_skips_hidden_files(tmp_path, hand):
    (tmp_path / "study" / "day1").mkdir(parents=True)
    (tmp_path / "study" / "day1" / "a.png").write_bytes(hand.read_bytes())
    (tmp_path / "study" / "manifest.csv").write_text("file,patient_id,age_years,sex\nday1/a.png,7,60,F\n")
    (tmp_path / "study" / ".DS_Store").write_bytes(b"junk")
    target = io.BytesIO()
    assert folder_archive(tmp_path / "study", target) == 2
    with zipfile.ZipFile(io.BytesIO(target.getvalue())) as archive:
        assert sorted(archive.namelist()) == ["day1/a.png", "manifest.csv"]
