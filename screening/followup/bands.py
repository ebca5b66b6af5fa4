"""The breakdowns officials read figures by: sex and 10-year age band at screening.

Bands are named by their lower bound ("60": 60-69 years); "lt50" holds anyone screened
under 50 (possible when OSTEO_SCREENING_MIN_AGE_YEARS is lowered), "90" everyone 90 and
over, "unknown" screenings without an age. The names are the columns of the figure
tables (screening.db.models.CELLS), so a band is defined once, here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case

from screening.db.models import BAND_CELLS, SEX_CELLS

BAND_LABELS: dict[str, str] = {"lt50": "under 50", "50": "50–59", "60": "60–69", "70": "70–79", "80": "80–89",
                               "90": "90 and over", "unknown": "age unknown"}
SEX_LABELS: dict[str, str] = {"f": "women", "m": "men"}
assert tuple(BAND_LABELS) == BAND_CELLS and tuple(SEX_LABELS) == SEX_CELLS


# (first month of the band, band): the one table both forms below read.
BAND_STARTS: tuple[tuple[int, str], ...] = ((90 * 12, "90"), (80 * 12, "80"), (70 * 12, "70"), (60 * 12, "60"),
                                            (50 * 12, "50"), (0, "lt50"))


def age_band(age_months: int | None) -> str:
    if age_months is None:
        return "unknown"
    return next((band for start, band in BAND_STARTS if age_months >= start), "lt50")


def age_band_sql(age_months: Any) -> Any:
    """The same band as :func:`age_band`, as an SQL expression on a column of ages in months."""
    return case((age_months.is_(None), "unknown"), *((age_months >= start, band) for start, band in BAND_STARTS),
                else_="lt50")


def sex_cell(sex: str | None) -> str | None:
    """The sex cell of a screening (None when not recorded: counted in the total only)."""
    return {"F": "f", "M": "m"}.get((sex or "").upper())
