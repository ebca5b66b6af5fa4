"""``osteo dicom``: AE titles and destinations per hospital, with one clear line when refused."""

import pytest
from click.testing import CliRunner

from screening.cli import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path))
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        assert (result.exit_code == 0) == ok, result.output
        return result.output

    invoke("db", "upgrade")
    invoke("hospital", "add", "DH1", "--name", "One", "--district", "d", "--region", "r")
    return invoke


def test_ae_titles_and_destinations_are_listed_per_hospital(run):
    run("dicom", "ae-add", "dh1", "CR_ROOM_1")
    run("dicom", "destination-add", "DH1", "pacs", "--host", "10.0.0.5", "--port", "104", "--ae-title", "MAINPACS")
    run("dicom", "destination-add", "DH1", "web", "--url", "https://pacs.example/dicom-web/")
    run("dicom", "destination-disable", "DH1", "web")
    listed = run("dicom", "list")
    assert "DH1: AE titles CR_ROOM_1" in listed
    assert "pacs: dimse MAINPACS@10.0.0.5:104" in listed and "web: stow https://pacs.example/dicom-web (disabled)" in listed


@pytest.mark.parametrize(("args", "message"), [
    (("dicom", "ae-add", "DH1", "A" * 17), "1 to 16 printable ASCII"),
    (("dicom", "ae-add", "NOPE", "X"), "no hospital"),
    (("dicom", "destination-add", "DH1", "x", "--host", "h"), "either --host, --port and --ae-title"),
    (("dicom", "destination-add", "DH1", "x", "--url", "ftp://pacs"), "http(s) DICOMweb base URL"),
    (("dicom", "destination-add", "DH1", "x", "--host", "h", "--port", "0", "--ae-title", "A"), "between 1 and 65535"),
])
def test_bad_values_are_refused_with_one_line(run, args, message):
    assert message in run(*args, ok=False)


def test_an_ae_title_belongs_to_one_hospital(run):
    run("hospital", "add", "DH2", "--name", "Two", "--district", "d", "--region", "r")
    run("dicom", "ae-add", "DH1", "SHARED")
    assert "already belongs to hospital DH1" in run("dicom", "ae-add", "DH2", "SHARED", ok=False)
