"""HTML, PDF and CSV renderings of patient reports and batch summaries.

HTML is self-contained (inline CSS, images as data: URIs, no links to fetch) so a
report opens offline and cannot leak a request. PDFs are made by WeasyPrint from
the same templates. :class:`ReportRenderer` makes them fast (shared font
configuration and stylesheet, print-sized JPEG pictures, small bundled fonts
embedded whole); ``bench/reports.py`` measures it against naive WeasyPrint use.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from PIL import Image as PILImage

from screening.csvsafe import safe_writer
from screening.db import RiskClass
from screening.reports import clinical
from screening.reports.context import (
    BatchSummaryContext,
    BoneMeasurementResult,
    ImageResult,
    PatientReportContext,
    PriorScreening,
)
from screening.vocabulary import CLASS_LABELS, NOT_SCREENED_LABEL, REPORT_DISCLAIMER

# Pictures print in a 56 x 55 mm box; 480 px is ~220 dpi there, as sharp as office
# printers go, and far fewer pixels than a stored full-size PNG.
PRINT_MAX_SIDE = 480
PRINT_JPEG_QUALITY = 88
# On screen a report may be zoomed, so the HTML keeps more pixels (and lossless PNG).
SCREEN_MAX_SIDE = 1024
FONT_FACES = (("DejaVuSans-Latin.ttf", "normal"), ("DejaVuSans-Bold-Latin.ttf", "bold"))
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
    except Exception as error:  # noqa: BLE001 - whatever the decoder raises, the picture is unreadable
        raise ValueError(f"report picture is not a readable image: {error}") from None
    return image


def _shrink(image: PILImage.Image, max_side: int) -> PILImage.Image:
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # reducing_gap: an integer box reduction first, then Lanczos on the small image;
    # indistinguishable at print size and several times faster on 1-2k px pictures.
    return image.resize(size, PILImage.Resampling.LANCZOS, reducing_gap=3.0)


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
    if overall is not None and overall.predicted_class is not None:
        series.append(PriorScreening(ctx.screening_date, overall.predicted_class, overall.p_osteoporosis))
    width, height, pad = 200, 70, 6
    step = (width - 2 * pad) / max(1, len(series) - 1)

    def y_of(p: float) -> float:
        return round(pad + (1.0 - p) * (height - 2 * pad), 1)

    points = [(round(pad + i * step, 1), y_of(s.p_osteoporosis), s.predicted_class.value) for i, s in enumerate(series)]
    last = len(series) - 1
    rows = [{"date": s.screened_on.isoformat() + (" (this screening)" if overall is not None and i == last else ""),
             "label": CLASS_LABELS[s.predicted_class], "p": s.p_osteoporosis} for i, s in enumerate(series)]
    return _Trend(
        width=width, height=height, points=points,
        polyline=" ".join(f"{x},{y}" for x, y, _ in points),
        threshold_y=y_of(ctx.refer_threshold) if ctx.refer_threshold is not None else None,
        rows=rows, colours=TREND_COLOURS,
    )


def _picture(data: bytes | None, note: str, encode: ImageEncoder) -> tuple[str | None, str]:
    """(data URI, note): a stored picture that cannot be decoded is reported, not fatal."""
    if data is None:
        return None, note
    try:
        return encode(data), ""
    except ValueError:
        return None, "image could not be read"


def _image_view(result: ImageResult, encode: ImageEncoder) -> dict[str, Any]:
    clahe_uri, clahe_note = _picture(result.clahe_png, result.clahe_note, encode)
    overlay_uri, overlay_note = _picture(result.overlay_png, result.overlay_note, encode)
    return {
        "result": result,
        "label": CLASS_LABELS[result.predicted_class] if result.predicted_class else "",
        "clahe_uri": clahe_uri,
        "clahe_note": clahe_note,
        "overlay_uri": overlay_uri,
        "overlay_note": overlay_note,
        "bars": _bars(result.probabilities),
    }


def _length(value: float | None, unit: str) -> str:
    """A width or length as printed: mm to 0.01 (a cortex is 1-3 mm), pixels to 0.1."""
    if value is None:
        return "—"
    return f"{value:.2f} mm" if unit == "mm" else f"{value:.1f} px"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _measurement_summary(m: BoneMeasurementResult) -> list[tuple[str, str]]:
    """The hand's combined values as (label, value) rows; a value needing a scale says so when there is none."""
    bones = ", ".join(b.bone for b in m.measured_bones) or "none"
    rows = [("Bones measured", f"{len(m.measured_bones)} of {len(m.bones)} ({bones})")]
    if not m.measured:
        return rows
    rows.append(("Cortical index Σ(D − d)/ΣD", _percent(m.cortical_index)))
    if m.cortical_thickness_mm is not None:
        rows.append(("Cortical thickness T, mean", f"{m.cortical_thickness_mm:.2f} mm"))
    else:
        rows.append(("Cortical thickness T, mean", "needs the pixel spacing"))
    if m.index_value is not None:
        rows.append((f"{m.index_name} (Bone Health Index)", f"{m.index_value:.2f}"))
    elif m.pixel_spacing_mm:
        rows.append((m.index_name, "no bone length measured"))
    else:
        rows.append((m.index_name, "needs the pixel spacing"))
    if m.pixel_spacing_mm:
        rows.append(("Pixel spacing", f"{m.pixel_spacing_mm:.3f} mm"))
    return rows


def _measurement_view(result: ImageResult, encode: ImageEncoder) -> dict[str, Any]:
    m = result.measurement
    assert m is not None
    picture, note = _picture(result.measurement_png, result.measurement_note, encode) if m.measured else (None, "")
    bones = [{
        "bone": b.bone,
        "measured": b.measured,
        # A hand refused as a whole gives every bone its reason: printed once, above the table.
        "reason": "not measured" + ("" if not m.measured and b.reason == m.reason else f": {b.reason}"),
        "outer": _length(b.outer_width, b.unit),
        "inner": _length(b.inner_width, b.unit),
        "thickness": _length(b.cortical_thickness, b.unit),
        "index": _percent(b.cortical_index),
        "length": _length(b.length, b.unit),
        "quality": f"{b.quality:.2f}",
    } for b in m.bones]
    return {"result": result, "m": m, "uri": picture, "note": note, "bones": bones,
            "headline": _percent(m.cortical_index), "summary": _measurement_summary(m)}


def _measurement_notes(ctx: PatientReportContext) -> dict[str, Any]:
    measured = ctx.measured_images
    return {
        "method": clinical.MEASUREMENT_METHOD,
        "cut_off": clinical.MEASUREMENT_CUT_OFF,
        "no_category": clinical.MEASUREMENT_NO_CATEGORY,
        "bhi": clinical.BHI_NOTE,
        "no_spacing": clinical.NO_PIXEL_SPACING if any(not i.measurement.pixel_spacing_mm  # type: ignore[union-attr]
                                                       for i in measured) else "",
        "not_eligible": clinical.NOT_ELIGIBLE_MEASUREMENT,
        "limits": clinical.MEASUREMENT_LIMITS,
        "versions": sorted({i.measurement.version for i in measured if i.measurement and i.measurement.version}),
    }


def _common(inline_css: bool) -> dict[str, Any]:
    return {
        # Our own file, not user data; escaping it would corrupt quotes inside <style>.
        "css": Markup(stylesheet()) if inline_css else None,
        "disclaimer": REPORT_DISCLAIMER,
        "demo_notice": clinical.DEMO_MODEL_NOTICE,
        "statements": clinical.standing_statements(),
        "validated_population": clinical.VALIDATED_POPULATION,
    }


def _patient_html(ctx: PatientReportContext, encode: ImageEncoder, inline_css: bool = True) -> str:
    overall = ctx.overall
    return _environment().get_template("patient_report.html").render(
        ctx=ctx,
        overall=overall,
        overall_label=CLASS_LABELS[ctx.overall_class] if ctx.overall_class else NOT_SCREENED_LABEL,
        overall_bars=_bars(overall.probabilities) if overall else [],
        recommendation=clinical.recommendation_for(ctx.overall_class),
        caveats=clinical.age_caveats(ctx.age_months),
        category_definitions=[clinical.CATEGORY_DEFINITIONS[risk] for risk in RiskClass],
        images=[_image_view(result, encode) for result in ctx.images],
        measured=[_measurement_view(result, encode) for result in ctx.measured_images],
        measurement_notes=_measurement_notes(ctx),
        trend=_trend(ctx),
        **_common(inline_css),
    )


def render_patient_html(ctx: PatientReportContext) -> str:
    """The patient report as one self-contained HTML page (lossless pictures for on-screen zoom)."""
    return _patient_html(ctx, screen_image_uri)


def render_batch_summary_html(ctx: BatchSummaryContext, inline_css: bool = True) -> str:
    total = max(1, ctx.patients_screened)
    counts = [(CLASS_LABELS[risk], ctx.class_counts.get(risk, 0), f"{100 * ctx.class_counts.get(risk, 0) / total:.0f}%")
              for risk in RiskClass]
    referrals = [{"entry": entry, "label": CLASS_LABELS[entry.predicted_class]} for entry in ctx.referrals]
    return _environment().get_template("batch_summary.html").render(
        ctx=ctx, counts=counts, referrals=referrals, **_common(inline_css)
    )


def batch_summary_csv(ctx: BatchSummaryContext) -> bytes:
    """The referral list, highest risk first, as UTF-8 CSV for spreadsheets and hospital systems."""
    out = io.StringIO()
    writer = safe_writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for rank, entry in enumerate(ctx.referrals, start=1):
        writer.writerow([rank, entry.pseudonym, entry.age_text, entry.sex_text,
                         entry.predicted_class.value, f"{entry.p_osteoporosis:.4f}"])
    return out.getvalue().encode("utf-8")


# -- PDF -----------------------------------------------------------------------------


def _bundled_coverage() -> frozenset[str]:
    """Characters every bundled face can draw (plus the whitespace HTML carries but never draws)."""
    from fontTools.ttLib import TTFont

    directory = resources.files("screening.reports") / "fonts"
    covered: set[int] | None = None
    for filename, _weight in FONT_FACES:
        with TTFont(str(directory / filename), lazy=True) as font:
            codepoints = set(font.getBestCmap())
        covered = codepoints if covered is None else covered & codepoints
    return frozenset(map(chr, covered or ())) | frozenset("\n\r\t\f")


def _font_faces_css() -> str:
    """@font-face rules for the bundled fonts; only the PDF renderer sees them (file URLs)."""
    directory = resources.files("screening.reports") / "fonts"
    rules = []
    for filename, weight in FONT_FACES:
        uri = Path(str(directory / filename)).resolve().as_uri()
        rules.append(f'@font-face {{ font-family: "Report Sans"; src: url("{uri}"); font-weight: {weight}; }}')
    return "\n".join(rules)


class ReportRenderer:
    """Renders many reports in one process, sharing what WeasyPrint would otherwise redo.

    Shared: the font configuration (the bundled fonts are loaded once), and the parsed
    report stylesheet (print HTML is rendered without its inline copy). Per report:
    pictures go in as print-sized JPEGs, which WeasyPrint embeds without re-encoding,
    and the small bundled fonts are embedded whole (``full_fonts``) instead of being
    subset, which was the largest cost of naive rendering. When a report holds a
    character the bundled fonts lack (a hospital name in another script), a system
    font takes over for it and that report is subset as usual, so no large font is
    ever embedded whole. Use one instance per process or thread.
    """

    def __init__(self) -> None:
        # Imported here: WeasyPrint is the optional "reports" extra, and HTML rendering
        # (e.g. a web preview) must work without it.
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration

        self._html = HTML
        self._font_config = FontConfiguration()
        faces = _font_faces_css()
        self._fonts_css = CSS(string=faces, font_config=self._font_config)
        self._report_css = CSS(string=faces + "\n" + stylesheet(), font_config=self._font_config)
        self._coverage = _bundled_coverage()

    def _write(self, html: str, stylesheet: Any) -> bytes:
        full_fonts = set(html) <= self._coverage
        return self._html(string=html).write_pdf(
            stylesheets=[stylesheet], font_config=self._font_config, full_fonts=full_fonts
        )

    def pdf_from_html(self, html: str) -> bytes:
        """PDF of a self-contained report page (one with its stylesheet inline)."""
        return self._write(html, self._fonts_css)

    def patient_pdf(self, ctx: PatientReportContext) -> bytes:
        """The patient report PDF, with print-sized pictures."""
        return self._write(_patient_html(ctx, print_image_uri, inline_css=False), self._report_css)

    def patient(self, ctx: PatientReportContext) -> tuple[str, bytes]:
        """(HTML, PDF) of a patient report."""
        return render_patient_html(ctx), self.patient_pdf(ctx)

    def batch_summary(self, ctx: BatchSummaryContext) -> tuple[str, bytes, bytes]:
        """(HTML, PDF, CSV) of a batch summary."""
        pdf = self._write(render_batch_summary_html(ctx, inline_css=False), self._report_css)
        return render_batch_summary_html(ctx), pdf, batch_summary_csv(ctx)


@lru_cache(maxsize=1)
def default_renderer() -> ReportRenderer:
    """The process-wide renderer used by the module-level functions."""
    return ReportRenderer()


def render_patient_pdf(html: str) -> bytes:
    """PDF of an HTML patient report from :func:`render_patient_html`."""
    return default_renderer().pdf_from_html(html)


def render_batch_summary(ctx: BatchSummaryContext) -> tuple[str, bytes, bytes]:
    """(HTML, PDF, CSV) of a batch summary."""
    return default_renderer().batch_summary(ctx)


# -- storing -------------------------------------------------------------------------


class WritableStore(Protocol):
    """The part of :class:`screening.storage.ObjectStore` that storing reports needs."""

    def put_bytes(self, key: str, data: bytes, content_type: str = ...) -> None: ...


def patient_report_keys(hospital_code: str, pseudonym: str, batch_id: str) -> tuple[str, str]:
    """Stable keys, so re-rendering a report (a retried task) replaces it instead of adding one."""
    base = f"reports/{hospital_code}/{pseudonym}/{batch_id}"
    return f"{base}.html", f"{base}.pdf"


def batch_summary_keys(hospital_code: str, batch_id: str) -> tuple[str, str, str]:
    base = f"reports/{hospital_code}/batches/{batch_id}/summary"
    return f"{base}.html", f"{base}.pdf", f"{base}.csv"


def store_patient_report(store: WritableStore, ctx: PatientReportContext, renderer: ReportRenderer) -> tuple[str, str]:
    """Render the patient report and store it; returns (html_key, pdf_key)."""
    html, pdf = renderer.patient(ctx)
    html_key, pdf_key = patient_report_keys(ctx.hospital_code, ctx.pseudonym, ctx.batch_id)
    store.put_bytes(pdf_key, pdf, "application/pdf")
    store.put_bytes(html_key, html.encode("utf-8"), "text/html; charset=utf-8")
    return html_key, pdf_key


def store_batch_summary(store: WritableStore, ctx: BatchSummaryContext,
                        renderer: ReportRenderer) -> tuple[str, str, str]:
    """Render the batch summary and store it; returns (html_key, pdf_key, csv_key)."""
    html, pdf, table = renderer.batch_summary(ctx)
    html_key, pdf_key, csv_key = batch_summary_keys(ctx.hospital_code, ctx.batch_id)
    store.put_bytes(pdf_key, pdf, "application/pdf")
    store.put_bytes(csv_key, table, "text/csv; charset=utf-8")
    store.put_bytes(html_key, html.encode("utf-8"), "text/html; charset=utf-8")
    return html_key, pdf_key, csv_key
