"""Screening reports: what they show (context), what they say (clinical), how they look (render).

Patient reports and batch summaries are built from the database into plain
dataclasses, then rendered to self-contained HTML, PDF (WeasyPrint) and CSV and
stored under stable object keys.
"""

from screening.reports.context import (
    BatchSummaryContext,
    ImageResult,
    ModelInfo,
    PatientReportContext,
    PriorScreening,
    QualityIssue,
    ReferralEntry,
    ReportDataError,
    build_batch_summary_context,
    build_patient_context,
    format_age,
)
from screening.reports.render import (
    ReportRenderer,
    batch_summary_csv,
    batch_summary_keys,
    patient_report_keys,
    render_batch_summary,
    render_patient_html,
    render_patient_pdf,
    store_batch_summary,
    store_patient_report,
)

__all__ = [
    "BatchSummaryContext", "ImageResult", "ModelInfo", "PatientReportContext", "PriorScreening",
    "QualityIssue", "ReferralEntry", "ReportDataError", "ReportRenderer", "batch_summary_csv",
    "batch_summary_keys", "build_batch_summary_context", "build_patient_context", "format_age",
    "patient_report_keys", "render_batch_summary", "render_patient_html", "render_patient_pdf",
    "store_batch_summary", "store_patient_report",
]
