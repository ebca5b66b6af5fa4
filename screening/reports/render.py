"""HTML, PDF and CSV renderings of patient reports and batch summaries.

HTML is self-contained (inline CSS, images as data: URIs, no links to fetch) so a
report opens offline and cannot leak a request. PDFs are made by WeasyPrint from
the same templates. :class:`ReportRenderer` holds what can be shared between
reports (the Jinja environment, the font configuration, the stylesheet) and feeds
WeasyPrint print-sized JPEG pictures; see ``bench/reports.py`` for what each choice
buys and ``render_pdf`` for the options.
"""

from __future__ import annotations

import base64
import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from PIL import Image as PILImage

from screening.db import RiskClass
from screening.reports import clinical
from screening.reports.context import (
    CLASS_LABELS,
    BatchSummaryContext,
    ImageResult,
    PatientReportContext,
    PriorScreening,
)

# Pictures are printed about 85 mm wide; 560 px is ~170 dpi there, sharper than the
# printers reports go to, and far fewer pixels than a stored full-size PNG.
PRINT_MAX_SIDE = 560
PRINT_JPEG_QUALITY = 88
# On screen a report may be zoomed, so the HTML keeps more pixels (and lossless PNG).
SCREEN_MAX_SIDE = 1024
CSV_COLUMNS = ("rank", "pseudonym", "age", "sex", "result", "p_osteoporosis")
TREND_COLOURS = {"normal": "#2e7d32", "osteopenia": "#d9822b", "osteoporosis": "#b71c1c"}

ImageEncoder = Callable[[bytes], str]


# -- pictures ----------------------------------------------------------------------


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _open_image(data: bytes) -> PILImage.Image:
    try:
        image = PILImage.open(io.BytesIO(data))
        image.load()
    except Exception as error:
        raise ValueError(f"report picture is not a readable image: {error}") from None
    return image


def _shrink(image: PILImage.Image, max_side: int) -> PILImage.Image:
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, PILImage.Resampling.LANCZOS)


def screen_image_uri(png: bytes) -> str:
    """PNG data URI for the HTML report: the stored PNG as is, unless it is larger than needed."""
    image = _open_image(png)
    if max(image.size) <= SCREEN_MAX_SIDE and image.format == "PNG":
        return _data_uri("image/png", png)
    out = io.BytesIO()
    _shrink(image, SCREEN_MAX_SIDE).save(out, format="PNG", optimize=False)
    return _data_uri("image/png", out.getvalue())


def print_image_uri(png: bytes) -> str:
    """JPEG data URI at print size: WeasyPrint embeds a JPEG as is, without decoding or recompressing."""
    image = _shrink(_open_image(png), PRINT_MAX_SIDE)
    if image.mode not in ("L", "RGB"):
        image = image.convert("RGB" if "A" in image.mode or image.mode == "P" else "L")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PRINT_JPEG_QUALITY, optimize=True)
    return _data_uri("image/jpeg", out.getvalue())


# -- templates ---------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> Environment:
    directory = resources.files("screening.reports") / "templates"
    env = Environment(
        loader=FileSystemLoader(str(directory)),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return (resources.files("screening.reports") / "templates" / "report.css").read_text("utf-8")


def _bars(probabilities: dict[RiskClass, float]) -> list[tuple[str, str, float]]:
    return [(risk.value, CLASS_LABELS[risk], float(probabilities.get(risk, 0.0))) for risk in RiskClass]


@dataclass(frozen=True)
class _Trend:
    width: int
    height: int
    points: list[tuple[float, float, str]]
    polyline: str
    threshold_y: float | None
    rows: list[dict[str, Any]]
    colours: dict[str, str]


def _trend(ctx: PatientReportContext) -> _Trend | None:
    """Sparkline of P(osteoporosis): earlier screenings and this one, evenly spaced in time order."""
    if not ctx.priors:
        return None
    overall = ctx.overall
    series = list(ctx.priors)
    if overall is not None:
        series.append(PriorScreening(ctx.screening_date, overall.predicted_class, overall.p_osteoporosis))
    width, height, pad = 200, 70, 6
    step = (width - 2 * pad) / max(1, len(series) - 1)

    def y_of(p: float) -> float:
        return round(pad + (1.0 - p) * (height - 2 * pad), 1)

    points = [(round(pad + i * step, 1), y_of(s.p_osteoporosis), s.predicted_class.value) for i, s in enumerate(series)]
    rows = [{"date": s.screened_on.isoformat() + (" (this screening)" if overall is not None and i == len(series) - 1 else ""),
             "label": CLASS_LABELS[s.predicted_class], "p": s.p_osteoporosis} for i, s in enumerate(series)]
    return _Trend(
        width=width, height=height, points=points,
        polyline=" ".join(f"{x},{y}" for x, y, _ in points),
        threshold_y=y_of(ctx.refer_threshold) if ctx.refer_threshold is not None else None,
        rows=rows, colours=TREND_COLOURS,
    )


def _image_view(result: ImageResult, encode: ImageEncoder) -> dict[str, Any]:
    return {
        "result": result,
        "label": CLASS_LABELS[result.predicted_class] if result.predicted_class else "",
        "clahe_uri": encode(result.clahe_png) if result.clahe_png else None,
        "overlay_uri": encode(result.overlay_png) if result.overlay_png else None,
        "bars": _bars(result.probabilities),
    }


def _common() -> dict[str, Any]:
    return {
        # Our own file, not user data; escaping it would corrupt quotes inside <style>.
        "css": Markup(stylesheet()),
        "disclaimer": clinical.DISCLAIMER,
        "demo_notice": clinical.DEMO_MODEL_NOTICE,
        "statements": clinical.standing_statements(),
        "validated_population": clinical.VALIDATED_POPULATION,
    }


def _patient_html(ctx: PatientReportContext, encode: ImageEncoder) -> str:
    overall = ctx.overall
    return _environment().get_template("patient_report.html").render(
        ctx=ctx,
        overall=overall,
        overall_label=CLASS_LABELS[overall.predicted_class] if overall else "Not screened",
        overall_bars=_bars(overall.probabilities) if overall else [],
        recommendation=clinical.recommendation_for(ctx.overall_class),
        caveats=clinical.age_caveats(ctx.age_months),
        category_definitions=[clinical.CATEGORY_DEFINITIONS[risk] for risk in RiskClass],
        images=[_image_view(result, encode) for result in ctx.images],
        trend=_trend(ctx),
        **_common(),
    )


def render_patient_html(ctx: PatientReportContext) -> str:
    """The patient report as one self-contained HTML page (lossless pictures for on-screen zoom)."""
    return _patient_html(ctx, screen_image_uri)


def render_batch_summary_html(ctx: BatchSummaryContext) -> str:
    total = max(1, ctx.patients_screened)
    counts = [(CLASS_LABELS[risk], ctx.class_counts.get(risk, 0), f"{100 * ctx.class_counts.get(risk, 0) / total:.0f}%")
              for risk in RiskClass]
    referrals = [{"entry": entry, "label": CLASS_LABELS[entry.predicted_class]} for entry in ctx.referrals]
    return _environment().get_template("batch_summary.html").render(
        ctx=ctx, counts=counts, referrals=referrals, **_common()
    )


def batch_summary_csv(ctx: BatchSummaryContext) -> bytes:
    """The referral list, highest risk first, as UTF-8 CSV for spreadsheets and hospital systems."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rank, entry in enumerate(ctx.referrals, start=1):
        writer.writerow([rank, entry.pseudonym, entry.age_text, entry.sex_text,
                         entry.predicted_class.value, f"{entry.p_osteoporosis:.4f}"])
    return out.getvalue().encode("utf-8")
