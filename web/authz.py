"""Who may see and do what in the web app (which hospitals a user may read is decided by
:func:`screening.accounts.visible_hospital_ids`, shared with the CLI).

* hospital staff: their own hospital, read and upload;
* health officials: every hospital of their district and/or region, read only;
* admins: everything, plus the admin pages.

Every query of the API and the dashboards filters with :func:`visible_hospital_ids`,
so a new endpoint cannot show another hospital's data by forgetting a check.
"""

from __future__ import annotations

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import Session

from screening import accounts, queries
from screening.db.models import Batch, Hospital, Patient, Role, User
from screening.identity import may_see_identifier
from screening.pseudonyms import pseudonymise
from web.errors import Problem, bad_request, forbidden, not_found
from web.state import db, state

SEARCH_CHARS = 128


def visible_hospital_ids(session: Session, user: User) -> frozenset[int] | None:
    """Ids of the hospitals ``user`` may read; ``None`` means all (admins). Cached per request."""
    cache = g.setdefault("visible_hospitals", {})
    if user.id not in cache:
        cache[user.id] = accounts.visible_hospital_ids(session, user)
    return cache[user.id]


def can_see_hospital(session: Session, user: User, hospital_id: int) -> bool:
    visible = visible_hospital_ids(session, user)
    return visible is None or hospital_id in visible


def is_admin(user: User | None) -> bool:
    return user is not None and user.role is Role.ADMIN


def may_record_follow_up(user: User, hospital_id: int | None) -> bool:
    """Referral states and DXA results: the hospital's own staff, and admins; officials only read."""
    return user.role is Role.ADMIN or (user.role is Role.STAFF and user.hospital_id == hospital_id)


def upload_hospital(session: Session, user: User, code: str | None) -> Hospital:
    """The hospital an upload by ``user`` belongs to, or a 4xx saying why it may not happen.

    Staff upload for their own hospital (naming it is optional); admins must name
    one; officials read aggregates and never upload.
    """
    if user.role is Role.OFFICIAL:
        raise forbidden("health officials have read-only access; uploads come from hospital staff")
    if user.role is Role.STAFF:
        own = session.get(Hospital, user.hospital_id)
        if code and code.strip().upper() != own.code:
            raise forbidden(f"you may upload only for your own hospital ({own.code})")
        return own
    if not code:
        raise bad_request("admins must name the hospital of an upload (field or query parameter 'hospital')")
    hospital = session.scalar(select(Hospital).where(Hospital.code == code.strip().upper()))
    if hospital is None:
        raise Problem(422, "Unknown hospital", f"no hospital has the code {code!r}")
    return hospital


def visible_batch(batch_id: str) -> Batch:
    """The batch if the caller may see it; 404 otherwise (other hospitals' ids are not confirmed)."""
    batch = queries.get_batch(db(), visible_hospital_ids(db(), g.user), batch_id)
    if batch is None:
        raise not_found(f"no batch {batch_id!r} that you can see")
    return batch


def visible_patient(pseudonym: str) -> Patient:
    """The patient if the caller may see them; 404 otherwise."""
    patient = queries.find_patient(db(), visible_hospital_ids(db(), g.user), pseudonym.strip().upper())
    if patient is None:
        raise not_found(f"no patient {pseudonym!r} that you can see")
    return patient


def search_pseudonyms(session: Session, user: User, text: str) -> list[str]:
    """The pseudonyms a search box's ``text`` can name: itself (a pseudonym), and for hospital
    staff the pseudonym of their own hospital's patient id ``text``.

    Only staff can search by a hospital's patient id, and only in their own hospital:
    anyone else could otherwise test whether a given person was screened there. No
    identifier is decrypted: the id is hashed as at ingest and the pseudonym looked up.
    """
    text = text.strip()[:SEARCH_CHARS]
    if not text:
        return []
    candidates = {text.upper()}
    if user.role is Role.STAFF and user.hospital_id is not None:
        own = session.get_one(Hospital, user.hospital_id)
        if may_see_identifier(user, own.id):
            candidates.add(pseudonymise(state().settings.pseudonym_secret, own.code, text))
    return sorted(candidates)


def hospital_param(name: str = "hospital") -> Hospital | None:
    """The hospital a query parameter names by code, if the caller may see it (404 otherwise); None if absent."""
    from flask import request

    code = (request.args.get(name) or "").strip().upper()
    if not code:
        return None
    hospital = next((h for h in queries.hospitals_in_scope(db(), visible_hospital_ids(db(), g.user))
                     if h.code == code), None)
    if hospital is None:
        raise not_found(f"no hospital {code!r} that you can see")
    return hospital
