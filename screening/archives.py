"""Safe reading of uploaded zip/tar archives and their manifests.

Hospitals upload archives produced by PACS exports and scripts we do not control,
and an archive is also the easiest way to attack a server (zip-slip, zip bombs,
links to /etc/passwd). Every member is checked before its bytes are read, every
read is bounded, and a bad member is reported alongside the good ones instead of
failing the batch.
"""

from __future__ import annotations

import csv
import io
import math
import posixpath
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO

from screening.imaging.decoded import MAX_PIXEL_SPACING_MM, MIN_PIXEL_SPACING_MM, plausible_pixel_spacing

NESTED_ARCHIVE_SUFFIXES = (".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar")
MANIFEST_NAME = "manifest.csv"


class ArchiveError(ValueError):
    """The archive as a whole cannot be read (not an archive, corrupt directory, over limits)."""


@dataclass(frozen=True)
class ArchiveLimits:
    max_files: int = 5000
    max_total_bytes: int = 8 * 1024**3
    max_member_bytes: int = 512 * 1024**2
    max_compression_ratio: int = 200


@dataclass(frozen=True)
class Member:
    """A regular file inside the archive that passed the structural checks."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Rejected:
    """A member that is not read at all, with the reason."""

    name: str
    reason: str


@dataclass(frozen=True)
class Overflow:
    """The archive holds more files than allowed: the rest are not read (one batch-level problem, not a row each)."""

    reason: str


def safe_member_name(name: str) -> str | None:
    """The normalised relative name, or None when the name escapes the archive."""
    if not name or name.startswith(("/", "\\")) or "\\" in name or "\x00" in name:
        return None
    if len(name) > 1 and name[1] == ":":  # C:/windows
        return None
    normalised = posixpath.normpath(name)
    if normalised.startswith("..") or normalised in {".", ""}:
        return None
    if any(part == ".." for part in name.split("/")):
        return None
    return normalised


def _check_name(name: str) -> str | None:
    """A rejection reason for the member name, or None if acceptable."""
    if safe_member_name(name) is None:
        return "unsafe path (absolute or outside the archive): not extracted"
    if name.lower().endswith(NESTED_ARCHIVE_SUFFIXES):
        return "nested archive: upload images directly, not archives inside archives"
    return None


def _bounded_read(stream: IO[bytes], limit: int) -> bytes | None:
    """Read at most ``limit`` bytes; None when the member turns out to be bigger."""
    chunks: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = stream.read(min(remaining, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    return None if len(data) > limit else data


class _Budget:
    """Tracks the whole archive's file count and uncompressed bytes as members are read."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.files = 0
        self.total = 0

    @property
    def full(self) -> bool:
        return self.files >= self.limits.max_files

    def overflow(self) -> Overflow:
        return Overflow(f"the archive holds more than {self.limits.max_files} files: the rest were not read")

    def admit(self, declared_size: int) -> str | None:
        if declared_size > self.limits.max_member_bytes:
            return f"file larger than {self.limits.max_member_bytes // 1024**2} MB"
        if self.total + declared_size > self.limits.max_total_bytes:
            return f"archive expands beyond {self.limits.max_total_bytes // 1024**3} GB: the rest are not read"
        return None

    def spend(self, actual: int) -> None:
        self.total += actual


def iter_archive(path: Path, limits: ArchiveLimits = ArchiveLimits()) -> Iterator[Member | Rejected | Overflow]:
    """Yield every member of a zip or tar (optionally gzip) file, accepted or rejected."""
    if zipfile.is_zipfile(path):
        yield from _iter_zip(path, limits)
        return
    try:
        tar = tarfile.open(path, mode="r:*")  # noqa: SIM115 - closed by the `with` below, once opened
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"not a readable zip or tar archive ({exc})") from None
    with tar:
        yield from _iter_tar(tar, limits)


def _iter_zip(path: Path, limits: ArchiveLimits) -> Iterator[Member | Rejected | Overflow]:
    budget = _Budget(limits)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"corrupt zip archive ({exc})") from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if budget.full:
                yield budget.overflow()
                return
            budget.files += 1
            reason = _check_name(info.filename) or _zip_link_reason(info) or budget.admit(info.file_size)
            ratio = info.file_size / info.compress_size if info.compress_size else 0
            if reason is None and ratio > limits.max_compression_ratio:
                reason = f"compression ratio above {limits.max_compression_ratio}:1 (zip bomb?)"
            if reason:
                yield Rejected(info.filename, reason)
                continue
            yield _read_zip_member(archive, info, budget)


def _zip_link_reason(info: zipfile.ZipInfo) -> str | None:
    mode = info.external_attr >> 16
    if (mode & 0o170000) == 0o120000:
        return "symbolic link: not followed"
    return None


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> Member | Rejected:
    try:
        with archive.open(info) as stream:
            # Bounded by the declared size: a member that inflates beyond it is lying.
            data = _bounded_read(stream, info.file_size)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        return Rejected(info.filename, f"cannot be extracted ({exc})")
    if data is None:
        return Rejected(info.filename, "expands beyond its declared size (zip bomb?)")
    budget.spend(len(data))
    return Member(safe_member_name(info.filename) or info.filename, data)


def _iter_tar(tar: tarfile.TarFile, limits: ArchiveLimits) -> Iterator[Member | Rejected | Overflow]:
    budget = _Budget(limits)
    try:
        for info in tar:
            if info.isdir():
                continue
            if budget.full:
                yield budget.overflow()
                return
            budget.files += 1
            if info.issym() or info.islnk():
                yield Rejected(info.name, "link: not followed")
                continue
            if not info.isfile():
                yield Rejected(info.name, "not a regular file")
                continue
            reason = _check_name(info.name) or budget.admit(info.size)
            if reason:
                yield Rejected(info.name, reason)
                continue
            stream = tar.extractfile(info)
            data = _bounded_read(stream, info.size) if stream else None
            if data is None or len(data) != info.size:
                yield Rejected(info.name, "truncated in the archive")
                continue
            budget.spend(len(data))
            yield Member(safe_member_name(info.name) or info.name, data)
    except (tarfile.TarError, OSError, EOFError) as exc:
        yield Rejected("(archive)", f"archive is corrupt after this point ({exc})")


# --- manifest -----------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestRow:
    file: str
    patient_id: str
    age_months: int | None
    sex: str | None
    study_date: date | None
    #: Detector pixel spacing in mm for a PNG/JPEG (optional column ``pixel_spacing_mm``); the
    #: metacarpal measurement is in millimetres only with it (or with DICOM spacing tags).
    pixel_spacing_mm: float | None = None


@dataclass(frozen=True)
class Manifest:
    rows: dict[str, ManifestRow]
    problems: list[str]  # batch-level problems (bad columns, rows naming no usable file)
    invalid: dict[str, str] = field(default_factory=dict)  # file -> why its row is unusable

    @property
    def present(self) -> bool:
        return bool(self.rows or self.problems or self.invalid)


def parse_manifest(data: bytes, max_rows: int | None = None) -> Manifest:
    """Parse ``manifest.csv``: file, patient_id, age_years or age_months, sex, optional study_date
    and pixel_spacing_mm.

    Bad rows are listed in ``problems`` (with their line numbers) rather than raised:
    the images they name are then rejected for lack of patient data, and the rest
    of the batch goes on.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Manifest({}, ["manifest.csv is not UTF-8 text"])
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower() for c in (reader.fieldnames or [])}
    missing = {"file", "patient_id", "sex"} - columns
    if missing or not ({"age_years", "age_months"} & columns):
        need = sorted(missing | ({"age_years or age_months"} if not ({"age_years", "age_months"} & columns) else set()))
        return Manifest({}, [f"manifest.csv lacks column(s): {', '.join(need)}"])
    rows: dict[str, ManifestRow] = {}
    problems: list[str] = []
    invalid: dict[str, str] = {}
    for line, raw in enumerate(reader, start=2):
        if max_rows is not None and line - 1 > max_rows:
            raise ArchiveError(f"manifest.csv lists more than {max_rows} files, the most one archive may hold")
        record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(k, str) and k}
        name = safe_member_name(record.get("file", ""))
        if not name:
            problems.append(f"manifest line {line}: the file name is missing or unsafe")
            continue
        try:
            rows[name] = _manifest_row(name, record)
        except ValueError as exc:
            invalid[name] = f"manifest.csv line {line}: {exc}"
    return Manifest(rows, problems, invalid)


def _manifest_row(name: str, record: dict[str, str]) -> ManifestRow:
    """The row for ``name``; ValueError with a sentence for staff when a field is unusable."""
    if not record.get("patient_id"):
        raise ValueError("patient_id is empty")
    sex = record.get("sex", "").upper() or None
    if sex in {"FEMALE", "MALE"}:
        sex = sex[0]
    if sex not in {"F", "M", None}:
        raise ValueError(f"sex must be F or M, got {_shown(record.get('sex', ''))}")
    return ManifestRow(name, record["patient_id"], _age_months(record), sex, _study_date(record.get("study_date", "")),
                       _pixel_spacing(record.get("pixel_spacing_mm", "")))


def _shown(raw: str) -> str:
    """A field value quoted for a message, bounded (values come from files we do not control)."""
    return repr(raw[:40] + ("…" if len(raw) > 40 else ""))


def _number(column: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{column} must be a number, got {_shown(raw)}") from None
    if not math.isfinite(value):
        raise ValueError(f"{column} must be a number, got {_shown(raw)}")
    return value


def _age_months(record: dict[str, str]) -> int | None:
    if record.get("age_months"):
        months = _number("age_months", record["age_months"])
    elif record.get("age_years"):
        months = _number("age_years", record["age_years"]) * 12
    else:
        return None
    if not 0 <= months <= 130 * 12:
        raise ValueError(f"age out of range ({months / 12:.0f} years)")
    return round(months)


def _study_date(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"study_date must be YYYY-MM-DD, got {_shown(raw)}") from None


def _pixel_spacing(raw: str) -> float | None:
    """The row's pixel spacing in mm; empty means unknown (the measurement is then in pixels).

    A value that is not a plausible spacing makes the row unusable rather than being
    dropped: a millimetre figure must never come from a scale someone mistyped, and
    measuring the image in pixels while its manifest claims a spacing would hide the
    mistake from the hospital.
    """
    if not raw:
        return None
    value = _number("pixel_spacing_mm", raw)
    if not plausible_pixel_spacing(value):
        raise ValueError(f"pixel_spacing_mm must be between {MIN_PIXEL_SPACING_MM} and {MAX_PIXEL_SPACING_MM} "
                         f"(millimetres per pixel), got {_shown(raw)}")
    return value
