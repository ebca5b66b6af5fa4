"""Reports with the hospital's own patient ids, for that hospital's staff: rendered on request, never stored.

Stored reports (object storage) name patients by pseudonym only, so nothing at rest
outside the database holds an identifier, and officials downloading a report see
the pseudonym. When the hospital's own staff download one, it is rendered again
from the same rows with their patient id added; the caller decides who may see it
(:func:`screening.identity.may_see_identifier`) and passes the decrypted ids in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.db.models import Batch, Patient
from screening.reports.context import (
    ReadableStore,
    build_batch_summary_context,
    build_patient_context,
)
from screening.reports.render import ReportRenderer, render_batch_summary_html, render_patient_html


def patient_report(session: Session, store: ReadableStore, patient: Patient, batch_id: str, identifier: str,
                   fmt: str, renderer: Callable[[], ReportRenderer]) -> bytes:
    """The patient's report for ``batch_id`` as ``fmt`` ('pdf' or 'html') with ``identifier`` shown."""
    ctx = replace(build_patient_context(session, store, patient.id, batch_id), hospital_patient_id=identifier)
    if fmt == "pdf":
        return renderer().patient_pdf(ctx)
    return render_patient_html(ctx).encode("utf-8")


def batch_summary_html(session: Session, batch: Batch, identifier_of: Callable[[Patient], str | None]) -> bytes:
    """The batch summary (HTML) with each referred patient's hospital id from ``identifier_of``."""
    ctx = build_batch_summary_context(session, batch.id)
    pseudonyms = [entry.pseudonym for entry in ctx.referrals]
    patients = {p.pseudonym: p for p in session.scalars(
        select(Patient).where(Patient.hospital_id == batch.hospital_id, Patient.pseudonym.in_(pseudonyms)))}
    referrals = tuple(replace(entry, hospital_patient_id=identifier_of(patients[entry.pseudonym]))
                      if entry.pseudonym in patients else entry for entry in ctx.referrals)
    return render_batch_summary_html(replace(ctx, referrals=referrals)).encode("utf-8")
