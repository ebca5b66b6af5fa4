"""CSV files that are safe to open in a spreadsheet: the one rule against formula injection.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-``
or ``@`` as a formula (tab and carriage return are stripped first), so a file name
or hospital name like ``=HYPERLINK(...)`` in an export could leak data or run
commands on the reader's machine. Every CSV the product writes goes through
:func:`safe_writer`, which prefixes such text cells with an apostrophe (OWASP's
advice), so they display as the text they are.

Numbers are never touched: an ``int``/``float`` cell, or a string that is a plain
number such as ``-2.5`` (what a spreadsheet would read as that number anyway),
is written as it is, so negative values stay numbers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would run as a formula; then ``'`` + text."""
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


class SafeWriter:
    """A ``csv.writer`` whose rows are neutralised cell by cell."""

    def __init__(self, out: TextIO, **fmt: Any) -> None:
        self._writer = csv.writer(out, **fmt)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(out: TextIO, **fmt: Any) -> SafeWriter:
    """A CSV writer on ``out`` (``fmt`` as for :func:`csv.writer`) that neutralises formula cells."""
    return SafeWriter(out, **fmt)
