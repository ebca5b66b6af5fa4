"""Archives crafted to wedge a batch: each ends in a final state with its good files screened.

Runs on the embedded default (SQLite, no services); the same cases run on
PostgreSQL (which refuses NUL and invalid UTF-8 outright) where it is available.
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from screening.accounts import add_hospital
from screening.config import load_settings
from screening.db import BatchStatus, Image, Quality, schema, session_scope
from screening.pipeline.status import FINAL
from tests.factories import write_phantom_archive
from tests.hostile import dicom_with_tags
from tests.unit.pipeline.conftest import screen

LONG = "d" * 600  # longer than the 512 characters a stored file name may have


def _members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _first_image(members: dict[str, bytes]) -> tuple[str, bytes]:
    name = next(n for n in members if n.endswith(".png"))
    return name, members[name]


def _manifest_with(members: dict[str, bytes], extra_rows: list[str]) -> bytes:
    return members["manifest.csv"] + "".join(f"{row}\n" for row in extra_rows).encode()


def _write_zip(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries:
            zf.writestr(zipfile.ZipInfo(name), data)  # ZipInfo: duplicates are written as given
    return path


def _write_tar(path: Path, entries: list[tuple[bytes | str, bytes]]) -> Path:
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT,
                      encoding="latin-1") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name.decode("latin-1") if isinstance(name, bytes) else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _base(tmp_path: Path, seed: int) -> dict[str, bytes]:
    return _members(write_phantom_archive(tmp_path / f"base{seed}.zip", 3, seed=seed))


def _rows(settings, batch_id: str) -> list[Image]:
    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(Image).where(Image.batch_id == batch_id).order_by(Image.id)))


def _assert_ended_with_good_files_screened(settings, batch, good: int) -> list[Image]:
    assert batch.status in FINAL and batch.status is not BatchStatus.FAILED, (batch.status, batch.error)
    assert batch.screened == good, batch.error
    rows = _rows(settings, batch.id)
    for row in rows:
        assert "\x00" not in row.filename and "\x00" not in (row.quality_reason or "")
        row.filename.encode("utf-8")  # storable as UTF-8: no surrogates
        assert len(row.filename) <= 512
    return rows


def case_duplicate_names_zip(tmp_path: Path) -> tuple[Path, int]:
    members = _base(tmp_path, 11)
    name, data = _first_image(members)
    other = next(v for k, v in members.items() if k.endswith(".png") and k != name)
    entries = [*members.items(), (name, other), ("./" + name, data)]
    return _write_zip(tmp_path / "dupes.zip", entries), 3


def case_duplicate_names_tar(tmp_path: Path) -> tuple[Path, int]:
    members = _base(tmp_path, 12)
    name, data = _first_image(members)
    entries = [*members.items(), ("./" + name, data), (name, data)]
    return _write_tar(tmp_path / "dupes.tar", entries), 3


def case_names_colliding_after_truncation(tmp_path: Path) -> tuple[Path, int]:
    members = _base(tmp_path, 13)
    _, data = _first_image(members)
    images = [n for n in members if n.endswith(".png")]
    first, second = f"{LONG}-a.png", f"{LONG}-b.png"
    manifest = _manifest_with(members, [f"{first},LONG-1,67,F", f"{second},LONG-2,71,M"])
    entries = [(n, members[n]) for n in images] + [("manifest.csv", manifest),
                                                   (first, members[images[1]] + b""), (second, data + b"\x00")]
    return _write_zip(tmp_path / "long.zip", entries), 4  # `second` has other bytes: PNG ignores trailing data


def case_non_utf8_tar_names(tmp_path: Path) -> tuple[Path, int]:
    members = _base(tmp_path, 14)
    entries: list[tuple[bytes | str, bytes]] = list(members.items())
    entries += [(b"radiographie-\xe9t\xe9.png", b"\x89PNG\r\n\x1a\n not really"), (b"caf\xe9/\xff\xfe.txt", b"hello")]
    return _write_tar(tmp_path / "latin1.tar", entries), 3


def case_nul_in_dicom_tag(tmp_path: Path) -> tuple[Path, int]:
    members = _base(tmp_path, 15)
    pixels = (np.random.default_rng(5).random((320, 300)) * 4000).astype(np.uint16)
    entries = [*members.items(), ("knee.dcm", dicom_with_tags(pixels, BodyPartExamined="KN\x00EE"))]
    return _write_zip(tmp_path / "nul.zip", entries), 3


CASES = [case_duplicate_names_zip, case_duplicate_names_tar, case_names_colliding_after_truncation,
         case_non_utf8_tar_names, case_nul_in_dicom_tag]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_hostile_archive_ends_with_good_files_screened(embedded, tmp_path, case):
    archive, good = case(tmp_path)
    batch = screen(embedded, archive)
    rows = _assert_ended_with_good_files_screened(embedded, batch, good)
    assert len({row.filename for row in rows}) == len(rows)


@pytest.mark.integration
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_hostile_archive_on_postgresql(postgres_url, tmp_path, monkeypatch, tiny_bundle, case):
    monkeypatch.setenv("OSTEO_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OSTEO_DATABASE_URL", postgres_url)
    monkeypatch.setenv("OSTEO_MODEL_BUNDLE", str(tiny_bundle))
    monkeypatch.setenv("OSTEO_CHUNK_SIZE", "4")
    settings = load_settings()
    schema.upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        add_hospital(session, "DH1", "District Hospital One", "North", "Coast")
    archive, good = case(tmp_path)
    _assert_ended_with_good_files_screened(settings, screen(settings, archive), good)


def test_unforeseen_error_in_one_member_rejects_it_alone(embedded, tmp_path, monkeypatch):
    import screening.ingest as ingest_module

    real = ingest_module.inspect_file

    def explode_on_one(data, name):
        if name.endswith("boom.png"):
            raise KeyError("a bug nobody foresaw")
        return real(data, name)

    monkeypatch.setattr(ingest_module, "inspect_file", explode_on_one)
    members = _base(tmp_path, 16)
    _, data = _first_image(members)
    archive = _write_zip(tmp_path / "boom.zip", [*members.items(), ("boom.png", data + b"x")])
    batch = screen(embedded, archive)
    rows = _assert_ended_with_good_files_screened(embedded, batch, 3)
    boom = next(row for row in rows if row.filename == "boom.png")
    assert boom.quality is Quality.REJECTED and "unexpected error" in boom.quality_reason
    assert "KeyError" not in boom.quality_reason
