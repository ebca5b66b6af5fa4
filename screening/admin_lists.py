"""The admin pages' lists: hospitals, users, API tokens, model versions and the audit trail.

Unscoped (only admins read them), filtered, sorted and paged with their totals like
every other list (:mod:`screening.listing`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from screening.db.models import ApiToken, AuditEvent, Hospital, ModelVersion, User
from screening.listing import Sort, Window, fetch, string_contains
from screening.rollups import batches_of_days

HOSPITAL_SORTS: dict[str, Any] = {"code": Hospital.code, "name": Hospital.name, "district": Hospital.district,
                                  "region": Hospital.region, "created": Hospital.created_at}
USER_SORTS: dict[str, Any] = {"email": User.email, "name": User.name, "role": User.role,
                              "created": User.created_at}
TOKEN_SORTS: dict[str, Any] = {"created": ApiToken.created_at, "last_used": ApiToken.last_used_at,
                               "name": ApiToken.name, "email": User.email}
MODEL_SORTS: dict[str, Any] = {"registered": ModelVersion.created_at, "name": ModelVersion.name,
                               "active": ModelVersion.active}
AUDIT_SORTS: dict[str, Any] = {"at": AuditEvent.at, "action": AuditEvent.action}
DEFAULT_SORTS = {"hospitals": Sort("code"), "users": Sort("email"), "tokens": Sort("created", descending=True),
                 "models": Sort("registered", descending=True), "audit": Sort("at", descending=True)}


def list_hospitals(session: Session, window: Window | None, text: str | None = None, region: str | None = None,
                   sort: Sort = DEFAULT_SORTS["hospitals"]) -> tuple[list[Hospital], int]:
    query = select(Hospital)
    if text:
        query = query.where(or_(string_contains(Hospital.code, text), string_contains(Hospital.name, text),
                                string_contains(Hospital.district, text)))
    if region:
        query = query.where(Hospital.region == region)
    return fetch(session, query, sort, HOSPITAL_SORTS, (Hospital.id,), window)


def list_users(session: Session, window: Window | None, role: str | None = None, text: str | None = None,
               active: bool | None = None, sort: Sort = DEFAULT_SORTS["users"]) -> tuple[list[User], int]:
    query = select(User)
    if role:
        query = query.where(User.role == role)
    if text:
        query = query.where(or_(string_contains(User.email, text), string_contains(User.name, text)))
    if active is not None:
        query = query.where(User.active.is_(active))
    return fetch(session, query, sort, USER_SORTS, (User.id,), window)


def list_tokens(session: Session, window: Window | None, state: str | None = None, text: str | None = None,
                sort: Sort = DEFAULT_SORTS["tokens"]) -> tuple[list[ApiToken], int]:
    """``state``: 'active' or 'revoked'."""
    query = select(ApiToken).join(User, User.id == ApiToken.user_id)
    if state == "active":
        query = query.where(ApiToken.revoked_at.is_(None))
    elif state == "revoked":
        query = query.where(ApiToken.revoked_at.is_not(None))
    if text:
        query = query.where(or_(string_contains(User.email, text), string_contains(ApiToken.name, text),
                                string_contains(ApiToken.prefix, text)))
    return fetch(session, query, sort, TOKEN_SORTS, (ApiToken.id,), window)


def list_models(session: Session, window: Window | None,
                sort: Sort = DEFAULT_SORTS["models"]) -> tuple[list[ModelVersion], int]:
    return fetch(session, select(ModelVersion), sort, MODEL_SORTS, (ModelVersion.id,), window)


def list_audit(session: Session, window: Window | None, action: str | None = None, email: str | None = None,
               start: date | None = None, end: date | None = None,
               sort: Sort = DEFAULT_SORTS["audit"]) -> tuple[list[tuple[AuditEvent, str | None]], int]:
    """Audit events with the e-mail of who did them; ``action`` matches a prefix ('referral.' for all of them)."""
    query = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    if email:
        query = query.where(string_contains(User.email, email))
    query = query.where(*batches_of_days(AuditEvent.at, start, end))
    rows, total = fetch(session, query, sort, AUDIT_SORTS, (AuditEvent.id.desc(),), window)
    return [(event, who) for event, who in rows], total
