"""Rendered reports, read back the way a user would: PDF text, HTML, CSV, page images."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from screening.db import Patient
from screening.reports import (
    build_batch_summary_context,
    build_patient_context,
    clinical,
    render_batch_summary,
    render_patient_html,
    render_patient_pdf,
    store_batch_summary,
    store_patient_report,
)

pypdf = pytest.importorskip("pypdf")


def pdf_text(pdf: bytes) -> str:
    """All text of the PDF, whitespace collapsed (line breaks fall anywhere in a sentence)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def assert_self_contained(html: str) -> None:
    assert not re.search(r"https?://", html)
    for match in re.finditer(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", html):
        assert match.group(1).startswith("data:"), match.group(0)[:80]
    assert "@import" not in html and "url(" not in html


def test_patient_pdf_says_who_what_how_likely_what_next_and_which_model(seeded, renderer):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    html, pdf = renderer.patient(ctx)
    text = pdf_text(pdf)
    for expected in ("alice7f3a9c", "North District Hospital", "67 years", "Female", "Osteoporosis",
                     "70%", "20%", "10%", "50%", "Refer for DXA assessment",
                     "DXA of the hip and lumbar spine", "FRAX", "fracture-liaison service",
                     "demo-2025.03-9c1e5b7f", "osteo-fusion-demo", "slightly underexposed",
                     clinical.SCREENING_AID, clinical.CANNOT_RULE_OUT, "reference standard",
                     clinical.DEMO_MODEL_NOTICE, clinical.VALIDATED_POPULATION, "2024-03-01"):
        assert expected in text, expected
    assert clinical.NOT_VALIDATED_FOR_AGE not in text
    assert_self_contained(html)


def test_one_image_report_is_one_small_page(seeded, renderer):
    dave = build_batch_summary_context(seeded.session, seeded.batch_id).referrals[1]
    patient_id = seeded.session.scalar(select(Patient.id).where(Patient.pseudonym == dave.pseudonym))
    pdf = renderer.patient_pdf(build_patient_context(seeded.session, seeded.store, patient_id, seeded.batch_id))
    assert page_count(pdf) == 1
    assert len(pdf) < 500 * 1024


def test_disclaimer_is_in_the_footer_of_every_page(seeded, renderer):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    long_ctx = replace(ctx, images=ctx.images * 3)
    reader = pypdf.PdfReader(io.BytesIO(renderer.patient_pdf(long_ctx)))
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert clinical.SCREENING_AID in re.sub(r"\s+", " ", page.extract_text())


def test_child_report_names_missing_overlay_duplicate_and_age_caveat(seeded, renderer):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.bob, seeded.batch_id)
    text = pdf_text(renderer.patient_pdf(ctx))
    assert "8 years 3 months" in text and "Male" in text
    assert "Grad-CAM: overlay not available" in text
    assert "Duplicate image: same pixels as bob.png" in text
    assert "No referral suggested" in text and "routine care" in text
    assert "not validated for this age" in text


def test_unreadable_stored_picture_is_named_not_fatal(seeded, renderer):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.bob, seeded.batch_id)
    broken = replace(ctx.images[0], clahe_png=b"not a png")
    text = pdf_text(renderer.patient_pdf(replace(ctx, images=(broken,))))
    assert "X-ray: image could not be read" in text and "Normal" in text


def test_failed_image_still_renders_and_says_why(seeded, renderer):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.carol, seeded.batch_id)
    html = render_patient_html(ctx)
    text = pdf_text(render_patient_pdf(html))
    assert "Not screened: cannot decode: truncated PNG" in text
    assert "No result" in text and "carol0d2e4f" in text


def test_html_escapes_data_and_keeps_the_stylesheet_intact(seeded):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    hostile = replace(ctx, hospital_name='<script>alert("x")</script>')
    html = render_patient_html(hostile)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'font-family: "Report Sans"' in html  # CSS is not entity-escaped inside <style>


def test_batch_summary_pdf_and_csv_list_referrals_highest_risk_first(seeded):
    ctx = build_batch_summary_context(seeded.session, seeded.batch_id)
    html, pdf, table = render_batch_summary(ctx)
    rows = list(csv.DictReader(io.StringIO(table.decode("utf-8"))))
    assert [(r["rank"], r["pseudonym"], r["result"], r["p_osteoporosis"]) for r in rows] == [
        ("1", "alice7f3a9c", "osteoporosis", "0.7000"), ("2", "dave9e8d7c", "osteoporosis", "0.5000")]
    text = pdf_text(pdf)
    assert text.index("alice7f3a9c") < text.index("dave9e8d7c")
    for expected in ("carol.png", "cannot decode: truncated PNG", "bob-copy.png", "demo-2025.03-9c1e5b7f",
                     clinical.SCREENING_AID, clinical.DEMO_MODEL_NOTICE):
        assert expected in text, expected
    assert_self_contained(html)


def test_reports_are_stored_under_stable_keys(seeded, renderer):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    keys = store_patient_report(seeded.store, ctx, renderer)
    assert keys == (f"reports/DH-NORTH/alice7f3a9c/{seeded.batch_id}.html",
                    f"reports/DH-NORTH/alice7f3a9c/{seeded.batch_id}.pdf")
    assert seeded.store.get_bytes(keys[1]).startswith(b"%PDF")
    assert seeded.store.content_type(keys[1]) == "application/pdf"
    assert store_patient_report(seeded.store, ctx, renderer) == keys  # a retry replaces, never adds
    summary = build_batch_summary_context(seeded.session, seeded.batch_id)
    base = f"reports/DH-NORTH/batches/{seeded.batch_id}/summary"
    assert store_batch_summary(seeded.store, summary, renderer) == (f"{base}.html", f"{base}.pdf", f"{base}.csv")
    assert seeded.store.get_bytes(f"{base}.csv").startswith(b"rank,pseudonym")


def test_page_one_rasterises(seeded, renderer):
    pdfium = pytest.importorskip("pypdfium2")
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    document = pdfium.PdfDocument(renderer.patient_pdf(ctx))
    try:
        page = document[0].render(scale=50 / 72).to_pil()
    finally:
        document.close()
    assert page.size == (pytest.approx(413, abs=2), pytest.approx(585, abs=2))  # A4 at 50 dpi
    colours = page.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text, the result colour and the pictures, not a blank page


def test_text_beyond_the_bundled_fonts_falls_back_and_stays_small(seeded, renderer):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.carol, seeded.batch_id)
    name = "Hôpital Łódź Ωμέγα"
    pdf = renderer.patient_pdf(replace(ctx, hospital_name=name))
    assert name in pdf_text(pdf)
    assert len(pdf) < 500 * 1024  # the fallback font is subset, never embedded whole
