"""The SR, Secondary Capture and Encapsulated PDF that go back into the study, read back by dcmtk."""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ComprehensiveSRStorage, EncapsulatedPDFStorage, SecondaryCaptureImageStorage

from screening.config import SettingsError, load_settings
from screening.db.models import RiskClass
from screening.interop import uids
from screening.interop.results import (
    NewInstance,
    Radiogrammetry,
    ScreeningFinding,
    encapsulated_report,
    measurement_report,
    overlay_capture,
)
from screening.interop.source import SourceError, open_source, seal_source, source_subset
from screening.sealing import Sealer, SealError
from tests.conftest import require
from tests.factories import phantom_dicom, phantom_png

FINDING = ScreeningFinding(
    predicted_class=RiskClass.OSTEOPENIA,
    probabilities={RiskClass.NORMAL: 0.2, RiskClass.OSTEOPENIA: 0.5, RiskClass.OSTEOPOROSIS: 0.3},
    referred=True, model_name="fusion-compact", model_version="fusion-compact-c6a08c9726f1",
    device_uid=uids.derived_uid("device", "v1"), tracking_uid=uids.derived_uid("tracking", 1))


@pytest.fixture(scope="module")
def received(tmp_path_factory) -> Dataset:
    png, _ = phantom_png(tmp_path_factory.mktemp("hand"), seed=4)
    ds = pydicom.dcmread(io.BytesIO(phantom_dicom(png, patient_id="MRN-7731", accession="ACC-99")))
    ds.InstitutionName, ds.OtherPatientIDs = "St Elsewhere", "OLD-1"
    ds.PatientOrientation, ds.ImagerPixelSpacing = ["L", "F"], [0.1, 0.1]
    return ds


@pytest.fixture(scope="module")
def source(received) -> Dataset:
    return open_source(Sealer("test-key"), seal_source(Sealer("test-key"), received))


def _dcmtk(tool: str, path: Path, *args: str) -> str:
    require(shutil.which(tool) is not None, f"dcmtk's {tool}")
    result = subprocess.run([tool, *args, str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _saved(ds: Dataset, path: Path) -> Dataset:
    ds.save_as(path, enforce_file_format=True)
    return pydicom.dcmread(path)


def test_only_the_patient_study_and_image_ids_are_kept_and_they_are_sealed(received, source) -> None:
    assert source.PatientID == "MRN-7731" and source.StudyInstanceUID == received.StudyInstanceUID
    assert source.SOPInstanceUID == received.SOPInstanceUID and source.AccessionNumber == "ACC-99"
    for dropped in ("PixelData", "InstitutionName", "OtherPatientIDs"):
        assert dropped not in source
    token = seal_source(Sealer("test-key"), received)
    raw = base64.urlsafe_b64decode(token)
    assert "MRN-7731" not in token and b"MRN-7731" not in raw and b"Doe^Jane" not in raw
    with pytest.raises(SealError):
        open_source(Sealer("another-key"), token)
    bare = Dataset()
    bare.StudyInstanceUID = "1.2.3"
    with pytest.raises(SourceError, match="SOPInstanceUID"):
        source_subset(bare)


def test_production_refuses_the_development_identifier_key() -> None:
    secrets = {"OSTEO_PRODUCTION": "true", "OSTEO_PSEUDONYM_SECRET": "p" * 40, "OSTEO_SECRET_KEY": "s" * 40}
    with pytest.raises(SettingsError, match="OSTEO_IDENTIFIER_KEY"):
        load_settings(secrets)
    assert load_settings({**secrets, "OSTEO_IDENTIFIER_KEY": "k" * 40}).identifier_key == "k" * 40


def test_sr_is_a_tid1500_report_in_the_source_study_that_dsrdump_reads(source, tmp_path) -> None:
    where = NewInstance(uids.series_uid("b1", source.StudyInstanceUID, "sr"), uids.instance_uid("b1", 1, "v", "sr"),
                        uids.SERIES_NUMBERS["sr"])
    sr = _saved(measurement_report(source, FINDING, where), tmp_path / "sr.dcm")
    assert sr.SOPClassUID == ComprehensiveSRStorage and sr.SOPInstanceUID == where.sop_uid
    assert sr.StudyInstanceUID == source.StudyInstanceUID and sr.SeriesInstanceUID not in (source.SeriesInstanceUID,)
    assert (sr.PatientID, str(sr.PatientName), sr.AccessionNumber) == ("MRN-7731", "Doe^Jane", "ACC-99")
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == source.StudyInstanceUID
    assert evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == \
        source.SOPInstanceUID
    text = _dcmtk("dsrdump", tmp_path / "sr.dcm")
    assert '"Imaging Measurement Report"' in text and '(312894000,SCT,"Osteopenia")' in text
    assert '"Refer for DXA")=(373066001,SCT,"Yes")' in text
    assert '"Probability of osteoporosis")="0.3"' in text and '"Algorithm Version")="fusion-compact-c6a08c9726f1"' in text
    assert "Hand structure" in text and "Image Library" in text
    full = _dcmtk("dsrdump", tmp_path / "sr.dcm", "+Pl")  # long texts in full
    assert "screening aid, not a diagnosis" in full and "DXA" in full


def test_a_measured_hand_adds_a_radiogrammetry_group_with_its_method_version(source, tmp_path) -> None:
    measured = replace(FINDING, radiogrammetry=Radiogrammetry(0.4821, 1.734, "radiogrammetry-1.2", "2.25.77"))
    where = NewInstance("2.25.300", "2.25.301", uids.SERIES_NUMBERS["sr"])
    measured_sr = measurement_report(source, measured, where)
    measured_sr.save_as(tmp_path / "measured.dcm", enforce_file_format=True)
    text = _dcmtk("dsrdump", tmp_path / "measured.dcm")
    assert '"Metacarpal cortical index (MC2-MC4, combined)")="0.4821" (1,UCUM,"no units")' in text
    assert '"Metacarpal cortical thickness (MC2-MC4, mean)")="1.734" (mm,UCUM,"millimeter")' in text
    assert '"Algorithm Version")="radiogrammetry-1.2"' in text and text.count('"Measurement Group"') == 2


def test_overlay_is_a_secondary_capture_that_refers_to_its_source(source, tmp_path) -> None:
    rgb = np.zeros((48, 40, 3), np.uint8)
    rgb[10:20, 5:30] = (255, 128, 0)
    where = NewInstance("2.25.100", "2.25.101", uids.SERIES_NUMBERS["sc"])
    sc = _saved(overlay_capture(source, rgb, FINDING, where), tmp_path / "sc.dcm")
    assert sc.SOPClassUID == SecondaryCaptureImageStorage and sc.StudyInstanceUID == source.StudyInstanceUID
    assert sc.PatientID == "MRN-7731" and list(sc.PatientOrientation) == ["L", "F"]
    assert np.array_equal(sc.pixel_array, rgb)
    assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    assert "fusion-compact-c6a08c9726f1" in sc.ImageComments and "not a diagnosis" in sc.ImageComments
    assert "SecondaryCaptureImageStorage" in _dcmtk("dcmdump", tmp_path / "sc.dcm")
    with pytest.raises(ValueError, match="uint8 RGB"):
        overlay_capture(source, rgb[..., 0], FINDING, where)


def test_overlay_orientation_is_never_guessed(source) -> None:
    unknown = Dataset()
    unknown.update(source)
    del unknown.PatientOrientation
    sc = overlay_capture(unknown, np.zeros((8, 8, 3), np.uint8), FINDING, NewInstance("2.25.1", "2.25.2", 1))
    assert not sc.PatientOrientation


def test_report_is_an_encapsulated_pdf_whose_document_is_the_report(source, tmp_path) -> None:
    pdf = b"%PDF-1.4\n% a report of odd length\n%%EOF"
    assert len(pdf) % 2 == 1
    where = NewInstance("2.25.200", "2.25.201", uids.SERIES_NUMBERS["pdf"])
    document = _saved(encapsulated_report(source, pdf, "Bone health screening report", FINDING, where,
                                          datetime(2024, 3, 1, 12, 0, tzinfo=UTC)), tmp_path / "report.dcm")
    assert document.SOPClassUID == EncapsulatedPDFStorage and document.Modality == "DOC"
    assert document.StudyInstanceUID == source.StudyInstanceUID and document.PatientID == "MRN-7731"
    length = document.EncapsulatedDocumentLength
    assert document.EncapsulatedDocument[:length] == pdf
    assert document.SourceInstanceSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
    dump = _dcmtk("dcmdump", tmp_path / "report.dcm")
    assert "EncapsulatedPDFStorage" in dump and "application/pdf" in dump
    with pytest.raises(ValueError, match="not a PDF"):
        encapsulated_report(source, b"<html>", "x", FINDING, where, datetime.now(UTC))


def test_uids_are_stable_for_the_same_subject_and_differ_between_kinds() -> None:
    assert uids.instance_uid("b", 7, "v1", "sr") == uids.instance_uid("b", 7, "v1", "sr")
    assert len({uids.instance_uid("b", 7, "v1", kind) for kind in ("sr", "sc", "pdf")}) == 3
    assert uids.instance_uid("b", 7, "v1", "sr") != uids.instance_uid("b", 7, "v2", "sr")
    assert all(len(uids.series_uid("b", "1.2.3", k)) <= 64 for k in ("sr", "sc", "pdf"))
