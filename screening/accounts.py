"""Hospitals, users and API tokens: the operations the CLI and the admin pages share.

Secrets are never stored: passwords as salted hashes (werkzeug's scrypt/pbkdf2),
API tokens as sha256 of a 256-bit random secret (enough entropy that a plain
hash is safe, and lookups stay one indexed equality).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from screening.db.models import ApiToken, AuditEvent, Hospital, Role, User

TOKEN_PREFIX = "osteo_"
MIN_PASSWORD = 8


class AccountError(ValueError):
    """A request about hospitals, users or tokens that cannot be honoured as given."""


def _check_lengths(model: type, **values: str | None) -> None:
    """An AccountError naming the field when a value is longer than its column (not a database error)."""
    for field_name, value in values.items():
        limit = getattr(model.__table__.c[field_name].type, "length", None)  # type: ignore[attr-defined]
        if value is not None and limit is not None and len(value) > limit:
            raise AccountError(f"the {field_name.replace('_', ' ')} may have at most {limit} characters")


def add_hospital(session: Session, code: str, name: str, district: str, region: str) -> Hospital:
    code = code.strip().upper()
    _check_lengths(Hospital, code=code, name=name, district=district, region=region)
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise AccountError(f"hospital code {code!r} must be letters, digits, '-' or '_'")
    if session.scalar(select(Hospital).where(Hospital.code == code)):
        raise AccountError(f"hospital {code} already exists")
    hospital = Hospital(code=code, name=name, district=district, region=region)
    session.add(hospital)
    session.flush()
    return hospital


def get_hospital(session: Session, code: str) -> Hospital:
    hospital = session.scalar(select(Hospital).where(Hospital.code == code.strip().upper()))
    if hospital is None:
        raise AccountError(f"no hospital with code {code!r}")
    return hospital


def add_user(
    session: Session,
    email: str,
    role: Role,
    password: str | None = None,
    name: str = "",
    hospital_code: str | None = None,
    district: str | None = None,
    region: str | None = None,
) -> User:
    """Create a user, checking the role's scope: staff need a hospital, officials an area."""
    email = email.strip().lower()
    _check_lengths(User, email=email, name=name, district=district, region=region)
    if "@" not in email:
        raise AccountError(f"{email!r} is not an e-mail address")
    if session.scalar(select(User).where(User.email == email)):
        raise AccountError(f"user {email} already exists")
    hospital = get_hospital(session, hospital_code) if hospital_code else None
    if role is Role.STAFF and hospital is None:
        raise AccountError("hospital staff must belong to a hospital (--hospital CODE)")
    if role is Role.OFFICIAL and not (district or region):
        raise AccountError("a health official needs a --district or a --region")
    if password is not None:
        _check_password(password)
    user = User(
        email=email, name=name, role=role, hospital_id=hospital.id if hospital else None,
        district=district, region=region,
        password_hash=generate_password_hash(password) if password else None,
    )
    session.add(user)
    session.flush()
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"passwords must have at least {MIN_PASSWORD} characters")


def end_sessions(user: User) -> None:
    """Invalidate every login session of ``user`` (the caller commits): logout, password change."""
    user.session_generation = (user.session_generation or 0) + 1


def set_password(session: Session, user: User, password: str) -> None:
    """Change ``user``'s password; sessions opened with the old one end (the caller commits)."""
    _check_password(password)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    session.flush()


def get_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise AccountError(f"no user with e-mail {email!r}")
    return user


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown to the user once, never stored


def create_token(session: Session, user: User, name: str, days: int | None = None) -> IssuedToken:
    _check_lengths(ApiToken, name=name)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_token(secret),
                     prefix=secret[: len(TOKEN_PREFIX) + 6], expires_at=expires)
    session.add(token)
    session.flush()
    return IssuedToken(token=token, secret=secret)


def revoke_token(session: Session, prefix: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.prefix == prefix))
    if token is None:
        raise AccountError(f"no token starting with {prefix!r}")
    token.revoked_at = datetime.now(UTC)
    return token


def audit(session: Session, action: str, user_id: int | None = None, target_type: str | None = None,
          target_id: str | None = None, ip: str | None = None, **details: object) -> None:
    """Record who did what; written in the caller's transaction so it commits with the change."""
    session.add(AuditEvent(action=action, user_id=user_id, target_type=target_type,
                           target_id=target_id, ip=ip, details=dict(details)))


def visible_hospital_ids(session: Session, user: User) -> frozenset[int] | None:
    """Ids of the hospitals ``user`` may read; None means all (admins).

    Staff: their own hospital. Officials: every hospital of their district and/or region.
    The one home of this rule: the web app (per request) and the CLI (``--user``) both ask here.
    """
    if user.role is Role.ADMIN:
        return None
    if user.role is Role.STAFF:
        return frozenset({user.hospital_id}) if user.hospital_id else frozenset()
    areas = []
    if user.district:
        areas.append(Hospital.district == user.district)
    if user.region:
        areas.append(Hospital.region == user.region)
    if not areas:
        return frozenset()
    return frozenset(session.scalars(select(Hospital.id).where(or_(*areas))))
