"""Step 3, render_report: one patient's HTML + PDF report; the last one enqueues finalize."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select

from screening.db.models import Batch, Report
from screening.db.session import session_scope
from screening.faults import is_infrastructure_error
from screening.pipeline import status
from screening.pipeline.context import PipelineContext, now
from screening.pipeline.names import FINALIZE
from screening.pipeline.submit import publish
from screening.rollups import recount_reports
from screening.safe_text import public_reason
from screening.upserts import insert_ignore

logger = logging.getLogger(__name__)


def render_report(ctx: PipelineContext, patient_id: int, batch_id: str) -> None:
    """Render and store one patient's report; bad data is recorded on the report, an outage is raised."""
    values: dict[str, Any] = {"html_key": None, "pdf_key": None, "error": None}
    try:
        from screening.reports.context import build_patient_context
        from screening.reports.render import store_patient_report

        with session_scope(ctx.database_url) as session:
            report_ctx = build_patient_context(session, ctx.store, patient_id, batch_id)
            values["model_version_id"] = session.get_one(Batch, batch_id).model_version_id
        values["html_key"], values["pdf_key"] = store_patient_report(ctx.store, report_ctx, ctx.renderer)
    except Exception as exc:
        if is_infrastructure_error(exc):
            raise  # the task retries; an outage is never a failed report
        logger.exception("batch=%s report for patient #%s could not be rendered", batch_id, patient_id)
        values["error"] = f"report could not be rendered: {public_reason(exc)}"
    with session_scope(ctx.database_url) as session:
        insert_ignore(session, Report, [dict(patient_id=patient_id, batch_id=batch_id, created_at=now(), **values)],
                      ("patient_id", "batch_id"), update=True)
        batch = session.get_one(Batch, batch_id)
        recount_reports(session, batch)
        status.touch(session, batch_id)
        finished = session.scalar(select(func.count()).select_from(Report).where(Report.batch_id == batch_id)) or 0
        total, express = batch.reports_total, batch.express
    logger.info("batch=%s report for patient #%s %s", batch_id, patient_id, "failed" if values["error"] else "stored")
    if finished >= total:
        publish(ctx.enqueue, FINALIZE, (batch_id,), express)
