"""De-identification removes who the patient is and keeps what screening needs."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from screening.imaging import DecodeError, decode_image, deidentify_dicom

RG3 = "dicom-cr-radiographs/RG3_UNC.dcm"


def read(data: bytes) -> Dataset:
    return pydicom.dcmread(io.BytesIO(data))


def test_real_file_loses_identity_and_keeps_screening_facts(sample_bytes):
    original = sample_bytes(RG3)
    cleaned = read(deidentify_dicom(original, "P-7f3a"))
    before = read(original)
    assert str(cleaned.PatientName) == "" and "CompressedSamples" not in str(cleaned)
    assert cleaned.PatientID == "P-7f3a"
    assert not cleaned.get("PatientBirthDate") and "19790408" not in str(cleaned)
    assert "InstitutionName" not in cleaned and "HIGASHI" not in str(cleaned)
    assert not cleaned.get("AccessionNumber") and "FUJI95706" not in str(cleaned)
    assert cleaned.PatientAge == "025Y"  # derived from the birth date before it went
    assert (cleaned.PatientSex, cleaned.BodyPartExamined, cleaned.Modality) == ("F", "EXTREMITY", "CR")
    assert cleaned.PatientIdentityRemoved == "YES"
    assert cleaned.SOPClassUID == before.SOPClassUID
    assert cleaned.SOPInstanceUID != before.SOPInstanceUID
    assert cleaned.file_meta.MediaStorageSOPInstanceUID == cleaned.SOPInstanceUID
    assert cleaned.PixelData == before.PixelData


def test_uids_are_remapped_deterministically_per_pseudonym(sample_bytes):
    original = sample_bytes(RG3)
    first, again, other = (read(deidentify_dicom(original, name)) for name in ("P-1", "P-1", "P-2"))
    assert first.StudyInstanceUID == again.StudyInstanceUID
    assert first.StudyInstanceUID != other.StudyInstanceUID
    assert first.StudyInstanceUID.startswith("2.25.") and len(first.StudyInstanceUID) <= 64


def test_compressed_pixels_are_kept_byte_for_byte(sample_bytes):
    original = sample_bytes("dicom-cr-radiographs/RG3_J2KR.dcm")
    cleaned = deidentify_dicom(original, "P-1")
    assert read(cleaned).PixelData == read(original).PixelData
    np.testing.assert_array_equal(decode_image(cleaned).pixels, decode_image(original).pixels)


def test_private_tags_and_nested_names_are_removed(synth):
    data = synth.dicom(np.arange(16, dtype=np.uint16).reshape(4, 4), PatientBirthDate="19600101", StudyDate="20240101")
    ds = read(data)
    block = ds.private_block(0x0011, "ACME HOSPITAL", create=True)
    block.add_new(0x01, "LO", "secret ward 7")
    visit = Dataset()
    visit.PerformingPhysicianName = "House^Gregory"
    visit.InstitutionName = "General Hospital"
    ds.ProcedureCodeSequence = [visit]
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    cleaned = read(deidentify_dicom(buffer.getvalue(), "P-9"))
    text = str(cleaned)
    for secret in ("secret ward", "ACME", "House", "General Hospital", "Doe", "MRN-0042", "19600101"):
        assert secret not in text
    assert cleaned.PatientAge == "064Y"
    np.testing.assert_array_equal(decode_image(bytes(deidentify_dicom(data, "P-9"))).pixels, decode_image(data).pixels)


def test_not_dicom_is_refused(synth):
    with pytest.raises(DecodeError):
        deidentify_dicom(synth.png(synth.phantom()), "P-1")


@pytest.mark.parametrize("pseudonym", ["", "a\\b", "x" * 65, "tab\there"])
def test_bad_pseudonym_is_refused(synth, pseudonym):
    with pytest.raises(ValueError, match="pseudonym"):
        deidentify_dicom(synth.dicom(np.zeros((4, 4), np.uint16)), pseudonym)
