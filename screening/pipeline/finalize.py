"""Step 4, finalize: counters, patients' latest risk, referrals, figures by people, daily summary, final status.

A batch in which nothing could be screened is not "complete": it ends
``needs_attention`` with the reasons (grouped from its files: rejected, duplicate,
or patients outside the screening population) as problems, so staff see at once
that the upload needs fixing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from screening.db.models import Batch, BatchStatus, Image, Quality
from screening.db.session import session_scope
from screening.followup.finished import follow_up_batch
from screening.pipeline import status
from screening.pipeline.context import PipelineContext, now
from screening.pipeline.deliver import plan as plan_deliveries
from screening.pipeline.deliver import publish_due
from screening.pipeline.problems import Problem, replace_problems
from screening.population import not_eligible
from screening.rollups import finalize_counts, refresh_daily_summary, refresh_patients, summary_day

logger = logging.getLogger(__name__)

REASONS_SHOWN = 5


def finalize(ctx: PipelineContext, batch_id: str) -> None:
    """Counters, batch summary report, patients' latest risk, the hospital's daily summary."""
    with session_scope(ctx.database_url) as session:
        batch = session.get(Batch, batch_id)
        if batch is None or batch.status is not BatchStatus.REPORTING:
            return
        finalize_counts(session, batch)
        refresh_patients(session, batch_id)
        follow_up_batch(session, batch_id)
        refresh_daily_summary(session, batch.hospital_id, summary_day(batch.created_at))
    finished_at = now()  # printed in the summary, then stored on the batch
    summary_key = _store_summary(ctx, batch_id, finished_at) if ctx.reports_enabled else None
    with session_scope(ctx.database_url) as session:
        batch = session.get_one(Batch, batch_id)
        failures = finalize_counts(session, batch)
        if batch.screened == 0:
            target = BatchStatus.NEEDS_ATTENTION
            failures = [*_nothing_screened(session, batch), *failures]
        else:
            target = BatchStatus.COMPLETE_WITH_ERRORS if failures else BatchStatus.COMPLETE
        replace_problems(session, batch, failures, keep_existing=True)
        batch.summary_key = summary_key
        plan_deliveries(session, batch)  # results back to the hospital's destinations, with the final status
        session.flush()
        status.move(session, batch_id, (BatchStatus.REPORTING,), target, finished_at=finished_at)
    logger.info("batch=%s finished: %s", batch_id, target.value)
    publish_due(ctx, batch_id)


def _nothing_screened(session: Session, batch: Batch) -> list[Problem]:
    """Why nothing was screened: the most common reasons its files were turned away."""
    if batch.files_total == 0:
        return [(None, "nothing could be screened: the archive holds no images")]
    turned_away = Image.quality.in_([Quality.REJECTED, Quality.DUPLICATE])
    reason = case((turned_away, Image.quality_reason), else_=Image.eligibility_reason)
    reasons = session.execute(
        select(Image.quality, reason, func.count()).where(Image.batch_id == batch.id, or_(turned_away, not_eligible()))
        .group_by(Image.quality, reason).order_by(func.count().desc()).limit(REASONS_SHOWN)).all()
    headline = (f"nothing could be screened: {batch.rejected} of {batch.files_total} files rejected, "
                f"{batch.not_eligible} not eligible, {batch.duplicates} duplicates, {batch.failed} failed")
    lines: list[Problem] = [(None, headline)]
    lines += [(None, f"{count} file{'s' if count != 1 else ''}: {text or quality.value}")
              for quality, text, count in reasons]
    return lines


def _store_summary(ctx: PipelineContext, batch_id: str, finished_at: datetime) -> str | None:
    from screening.reports.context import build_batch_summary_context
    from screening.reports.render import store_batch_summary

    with session_scope(ctx.database_url) as session:
        summary = build_batch_summary_context(session, batch_id, finished_at)
    html_key, _pdf_key, _csv_key = store_batch_summary(ctx.store, summary, ctx.renderer)
    return html_key
