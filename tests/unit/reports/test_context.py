"""Report contexts read from the database: what each report will show."""

from datetime import date

import pytest

from screening.db import Quality, RiskClass
from screening.reports import ReportDataError, build_batch_summary_context, build_patient_context, format_age
from screening.reports.context import OVERLAY_NOT_AVAILABLE


@pytest.mark.parametrize("months, text", [
    (804, "67 years"), (805, "67 years"), (99, "8 years 3 months"), (96, "8 years"),
    (13, "1 year 1 month"), (5, "5 months"), (None, "not recorded"),
])
def test_age_is_years_for_adults_and_months_for_children(months, text):
    assert format_age(months) == text


def test_negative_age_is_refused():
    with pytest.raises(ValueError, match="negative"):
        format_age(-1)


def test_patient_context_overall_is_the_highest_risk_image(seeded):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    assert (ctx.hospital_name, ctx.hospital_code, ctx.pseudonym) == ("North District Hospital", "DH-NORTH", "alice7f3a9c")
    assert (ctx.age_text, ctx.sex_text, ctx.screening_date) == ("67 years", "Female", date(2025, 3, 14))
    assert [image.filename for image in ctx.images] == ["alice-left.png", "alice-right.png"]
    assert ctx.overall.filename == "alice-right.png"
    assert ctx.overall_class is RiskClass.OSTEOPOROSIS and ctx.refer
    assert ctx.images[0].quality is Quality.WARNING and ctx.images[0].quality_reason == "slightly underexposed"
    assert ctx.images[1].probabilities[RiskClass.OSTEOPOROSIS] == pytest.approx(0.7)
    assert (ctx.model.name, ctx.model.version, ctx.model.synthetic_demo) == ("osteo-fusion-demo", "demo-2025.03-9c1e5b7f", True)
    assert ctx.refer_threshold == pytest.approx(0.4)


def test_patient_context_reads_the_chosen_colour_map(seeded):
    jet = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    hot = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id, colormap="hot")
    assert hot.images[0].colormap == "hot"
    assert jet.images[0].overlay_png == hot.images[0].overlay_png  # the seed stores the same pixels for both
    assert jet.images[0].clahe_png is not None
    missing = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id, colormap="viridis")
    assert missing.images[0].overlay_png is None and missing.images[0].overlay_note == OVERLAY_NOT_AVAILABLE


def test_prior_screenings_form_the_trend(seeded):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.batch_id)
    assert [(p.screened_on, p.predicted_class, p.p_osteoporosis) for p in ctx.priors] == [
        (date(2024, 3, 1), RiskClass.OSTEOPENIA, pytest.approx(0.2))]
    earlier = build_patient_context(seeded.session, seeded.store, seeded.alice, seeded.earlier_batch_id)
    assert earlier.priors == ()  # a later batch is never a "prior"


def test_object_missing_from_the_store_does_not_fail_the_report(seeded):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.bob, seeded.batch_id)
    screened = ctx.images[0]
    assert screened.overlay_png is None and screened.overlay_note == OVERLAY_NOT_AVAILABLE
    assert screened.clahe_png is not None and screened.predicted_class is RiskClass.NORMAL
    assert ctx.age_text == "8 years 3 months" and not ctx.refer
    duplicate = ctx.images[1]
    assert duplicate.filename == "bob-copy.png" and not duplicate.screened
    assert duplicate.quality is Quality.DUPLICATE and duplicate.quality_reason == "same pixels as bob.png"


def test_failed_image_is_reported_with_its_error(seeded):
    ctx = build_patient_context(seeded.session, seeded.store, seeded.carol, seeded.batch_id)
    assert ctx.overall is None and ctx.overall_class is None and not ctx.refer
    assert ctx.images[0].error == "cannot decode: truncated PNG"


def test_unknown_patient_or_batch_is_a_clear_error(seeded):
    with pytest.raises(ReportDataError, match="no patient"):
        build_patient_context(seeded.session, seeded.store, 9999, seeded.batch_id)
    with pytest.raises(ReportDataError, match="no batch"):
        build_patient_context(seeded.session, seeded.store, seeded.alice, "0" * 32)
    with pytest.raises(ReportDataError, match="no images"):
        build_patient_context(seeded.session, seeded.store, seeded.bob, seeded.earlier_batch_id)
    with pytest.raises(ReportDataError, match="no batch"):
        build_batch_summary_context(seeded.session, "0" * 32)


def test_batch_summary_counts_patients_and_lists_referrals_highest_risk_first(seeded):
    ctx = build_batch_summary_context(seeded.session, seeded.batch_id)
    assert ctx.files_total == 6 and ctx.patients_screened == 3
    assert ctx.class_counts == {RiskClass.NORMAL: 1, RiskClass.OSTEOPENIA: 0, RiskClass.OSTEOPOROSIS: 2}
    assert [(r.pseudonym, r.age_text, r.sex_text, r.predicted_class) for r in ctx.referrals] == [
        ("alice7f3a9c", "67 years", "Female", RiskClass.OSTEOPOROSIS),
        ("dave9e8d7c", "72 years", "Male", RiskClass.OSTEOPOROSIS),
    ]
    assert [r.p_osteoporosis for r in ctx.referrals] == [pytest.approx(0.7), pytest.approx(0.5)]
    assert {(i.filename, i.status, i.reason) for i in ctx.issues} == {
        ("carol.png", "failed", "cannot decode: truncated PNG"),
        ("bob-copy.png", "duplicate", "same pixels as bob.png"),
    }
    assert ctx.model.version == "demo-2025.03-9c1e5b7f"
