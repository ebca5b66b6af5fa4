"""The "Measured bone" section of the patient report: values per bone, the cited cut-off, no category, limits."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from screening.db import Image
from screening.reports import build_patient_context, clinical, render_patient_html
from screening.reports.context import MEASUREMENT_NOT_AVAILABLE
from tests.unit.reports.conftest import png
from tests.unit.reports.test_render import pdf_text

REFUSAL = "The shaft's cortex and medullary canal are not clearly visible at mid-shaft."


def _bone(name: str, outer: float | None, inner: float | None, length: float | None, unit: str = "mm",
          reason: str = "") -> dict:
    measured = outer is not None
    return {"bone": name, "measured": measured, "reason": reason, "quality": 0.9 if measured else 0.2,
            "outer_width": outer, "inner_width": inner,
            "cortical_thickness": (outer - inner) / 2 if measured else None,
            "cortical_index": (outer - inner) / outer if measured else None, "length": length, "unit": unit,
            "line": [[10.0, 20.0], [30.0, 20.0]] if measured else None, "axis": None}


def _measure(seeded, filename: str, spacing: float | None = 0.1, measured: bool = True) -> Image:
    """Give the stored image ``filename`` a measurement as ingest records it (two bones, MC4 refused)."""
    image = seeded.session.scalar(select(Image).where(Image.filename == filename))
    unit = "mm" if spacing else "px"
    scale = 1.0 if spacing else 10.0
    bones = [_bone("MC2", 8.4 * scale, 4.2 * scale, 62.0 * scale, unit), _bone("MC3", 8.0 * scale, 4.4 * scale,
             None, unit), _bone("MC4", None, None, None, unit, REFUSAL)]
    if not measured:
        bones = [_bone(b, None, None, None, unit, "No hand outline was found.") for b in ("MC2", "MC3", "MC4")]
    image.radiogrammetry_version = "radiogrammetry-1.1"
    image.measured = measured
    image.cortical_index = (4.2 + 3.6) / 16.4 if measured else None
    image.cortical_thickness_mm = 1.95 if measured and spacing else None
    image.measurement = {"reason": "" if measured else "No hand outline was found.", "index_name": "BHI",
                         "index_value": 0.4123 if measured and spacing else None, "pixel_spacing_mm": spacing,
                         "bones": bones}
    if measured:
        image.measurement_overlay_key = f"overlays/{image.batch_id}/{image.id}/measurement.png"
        seeded.store.put_bytes(image.measurement_overlay_key, png(7, colour=True), "image/png")
    seeded.session.commit()
    return image


def test_context_reads_the_stored_measurement_and_its_picture(seeded):
    _measure(seeded, "alice-right.png")
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    (right,) = ctx.measured_images
    m = right.measurement
    assert right.filename == "alice-right.png" and right.measurement_png is not None and right.eligible is None
    assert m.measured and m.unit == "mm" and m.index_value == 0.4123 and m.cortical_thickness_mm == 1.95
    assert [b.bone for b in m.measured_bones] == ["MC2", "MC3"] and m.refused_bones[0].reason == REFUSAL
    left = next(i for i in ctx.images if i.filename == "alice-left.png")
    assert left.measurement is None  # never attempted: no section entry


def test_report_gives_values_per_bone_the_cited_cut_off_no_category_and_the_limits(seeded, renderer):
    _measure(seeded, "alice-right.png")
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    text = pdf_text(renderer.patient_pdf(ctx))
    section = text[text.index("Measured bone: cortex of the 2nd–4th metacarpals"):]
    for expected in ("alice-right.png: cortical index 47.6 %", "2 of 3 (MC2, MC3)", "1.95 mm", "BHI", "0.41",
                     "0.100 mm", "8.40 mm", "4.20 mm", "2.10 mm", "50.0 %", "62.00 mm", "D outer", "d medullary",
                     "T cortical", f"MC4 not measured: {REFUSAL}", "No category", "Schreiber JJ, Kamal RN, Yao J",
                     "J Hand Surg Am 2017;42(4):244–249", "below 50 %", "shown without a category",
                     "not yet been calibrated against DXA", "Thodberg HH", "What this measurement cannot tell",
                     "does not replace DXA", "Children and adolescents", "PA (posteroanterior)",
                     "Measured by radiogrammetry-1.1"):
        assert expected in section, expected
    assert clinical.NO_PIXEL_SPACING not in text
    assert "Measured bone" not in text[:text.index("Images")]  # after the screening result, not before it


def test_without_pixel_spacing_values_are_in_pixels_and_mm_values_are_not_guessed(seeded, renderer):
    _measure(seeded, "alice-right.png", spacing=None)
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    text = pdf_text(renderer.patient_pdf(ctx))
    section = text[text.index("Measured bone: cortex"):]
    assert "84.0 px" in section and "42.0 px" in section and "47.6 %" in section
    assert "needs the pixel spacing" in section and " mm" not in section.split("The cortex of the")[0]
    assert clinical.NO_PIXEL_SPACING in section


def test_not_eligible_image_shows_its_measurement_without_a_category(seeded, renderer):
    _measure(seeded, "alice-right.png")
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    outside = replace(ctx.measured_images[0], filename="alice-young.png", eligible=False, predicted_class=None,
                      probabilities={}, referred=False, error="not eligible: age 34 years is below ...")
    text = pdf_text(renderer.patient_pdf(replace(ctx, images=(*ctx.images, outside))))
    section = text[text.index("Measured bone: cortex"):]
    assert "alice-young.png: cortical index 47.6 %" in section
    assert clinical.NOT_ELIGIBLE_MEASUREMENT in section


def test_a_refused_hand_says_why_and_a_lost_picture_is_named(seeded, renderer):
    _measure(seeded, "alice-right.png", measured=False)
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    text = pdf_text(renderer.patient_pdf(ctx))
    section = text[text.index("Measured bone: cortex"):]
    assert "alice-right.png: not measured" in section and "Not measured: No hand outline was found." in section
    assert "0 of 3 (none)" in section and "D outer" not in section

    image = _measure(seeded, "alice-right.png")
    seeded.store.delete(image.measurement_overlay_key)  # a lost overlay is named, never a failed report
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    assert ctx.measured_images[0].measurement_note == MEASUREMENT_NOT_AVAILABLE
    assert MEASUREMENT_NOT_AVAILABLE in render_patient_html(ctx)


def test_no_measurement_no_section(seeded):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    assert not ctx.measured_images and "Measured bone" not in render_patient_html(ctx)
