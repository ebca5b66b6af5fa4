"""DXA results from a CSV file (what a DXA unit's system exports), checked as a whole before any is applied.

Columns (case-insensitive): ``referral_id`` or ``patient`` (a pseudonym, or for
hospital staff their own patient id), ``dxa_date`` (YYYY-MM-DD), ``device``, and at
least one of ``t_femoral_neck``, ``t_total_hip``, ``t_lumbar_spine``; optional ``note``.
A row naming a patient goes to that patient's newest referral without a DXA result
from on or before the DXA date. Every problem of every row is listed and nothing is
applied when there is one, so a file is fixed in one pass and never half-imported.
Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.db.models import Patient, Referral, User
from screening.followup.dxa import SITES, DxaError, DxaResult, dxa_result, parse_date
from screening.followup.referrals import record_dxa
from screening.queries import HospitalIds, in_scope

MAX_ROWS = 5000
MAX_BYTES = 2 * 1024 * 1024
SITE_COLUMNS = tuple(name for name, _ in SITES)


class DxaImportError(ValueError):
    """The file cannot be imported; ``problems`` lists every (line, reason). Nothing was applied."""

    def __init__(self, problems: list[tuple[int | None, str]]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); no DXA result was recorded")


@dataclass
class ImportResult:
    recorded: int = 0
    unchanged: int = 0
    referral_ids: list[int] = field(default_factory=list)


Resolve = Callable[[str], list[str]]  # what a 'patient' cell can name -> candidate pseudonyms


def import_dxa_csv(session: Session, data: bytes, hospital_ids: HospitalIds, resolve: Resolve, user: User,
                   today: date, ip: str | None = None) -> ImportResult:
    """Record every row's DXA result, or none (DxaImportError listing every problem)."""
    rows = _read(data)
    problems: list[tuple[int | None, str]] = []
    planned: list[tuple[int, Referral, DxaResult, str]] = []
    claimed: dict[int, int] = {}  # referral id -> line
    for line, record in rows:
        try:
            referral = _referral(session, record, hospital_ids, resolve, parse_date(record.get("dxa_date"), "DXA date"))
            result = dxa_result(record, referral.referred_on, today)
        except DxaError as exc:
            problems.append((line, str(exc)))
            continue
        if referral.id in claimed:
            problems.append((line, f"the same referral as line {claimed[referral.id]}"))
            continue
        claimed[referral.id] = line
        if referral.dxa_date is not None and not _same(referral, result):
            problems.append((line, f"the referral already has a DXA result of {referral.dxa_date}; "
                                   "correct it on the referral's page"))
            continue
        planned.append((line, referral, result, record.get("note", "")))
    if problems:
        raise DxaImportError(problems)
    outcome = ImportResult()
    for _line, referral, result, note in planned:
        if referral.dxa_date is not None:  # the same result again: nothing to do
            outcome.unchanged += 1
            continue
        record_dxa(session, referral, result, user, note=note, ip=ip, source="csv")
        outcome.recorded += 1
        outcome.referral_ids.append(referral.id)
    return outcome


def _read(data: bytes) -> list[tuple[int, dict[str, str]]]:
    if len(data) > MAX_BYTES:
        raise DxaImportError([(None, f"the file is larger than {MAX_BYTES // 1024 // 1024} MB")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DxaImportError([(None, "the file is not UTF-8 text")]) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = {(name or "").strip().lower() for name in (reader.fieldnames or [])}
    missing = []
    if not ({"referral_id", "patient"} & columns):
        missing.append("referral_id or patient")
    if "dxa_date" not in columns:
        missing.append("dxa_date")
    if not (set(SITE_COLUMNS) & columns):
        missing.append(" or ".join(SITE_COLUMNS))
    if missing:
        raise DxaImportError([(1, f"the header lacks: {'; '.join(missing)}")])
    rows = []
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            raise DxaImportError([(line, f"more than {MAX_ROWS} rows: split the file")])
        record = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if isinstance(k, str) and k}
        if any(record.values()):
            rows.append((line, record))
    if not rows:
        raise DxaImportError([(None, "the file has no rows")])
    return rows


def _referral(session: Session, record: dict[str, str], hospital_ids: HospitalIds, resolve: Resolve,
              dxa_date: date) -> Referral:
    """The referral a row names by id, or the patient's newest referral from on or before ``dxa_date``."""
    if record.get("referral_id"):
        try:
            referral_id = int(record["referral_id"])
        except ValueError:
            raise DxaError(f"referral_id must be a number, got {record['referral_id'][:20]!r}") from None
        referral = session.scalar(select(Referral).where(Referral.id == referral_id,
                                                         in_scope(Referral.hospital_id, hospital_ids)))
        if referral is None:
            raise DxaError(f"no referral {referral_id} that you can record for")
        return referral
    text = record.get("patient", "")
    if not text:
        raise DxaError("give referral_id or patient")
    patients = list(session.scalars(select(Patient.id).where(Patient.pseudonym.in_(resolve(text)),
                                                             in_scope(Patient.hospital_id, hospital_ids))))
    referrals = list(session.scalars(select(Referral).where(Referral.patient_id.in_(patients))
                                     .order_by(Referral.referred_at.desc(), Referral.id.desc()))) if patients else []
    if not referrals:
        raise DxaError("no referred patient of yours has this id or pseudonym")  # never echo the id
    for referral in referrals:
        if referral.referred_on <= dxa_date:
            return referral
    raise DxaError(f"the DXA date {dxa_date} is before the patient's first referral ({referrals[-1].referred_on})")


def _same(referral: Referral, result: DxaResult) -> bool:
    return (referral.dxa_date, referral.dxa_device, referral.t_femoral_neck, referral.t_total_hip,
            referral.t_lumbar_spine) == (result.dxa_date, result.device, result.t_femoral_neck, result.t_total_hip,
                                         result.t_lumbar_spine)
