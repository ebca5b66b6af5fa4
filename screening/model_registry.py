"""Model versions known to the database, which bundle a worker should load, and promotion.

The bundle's content-derived version is the primary key, so registering the same
bundle from many workers at once is one row, and every prediction points at the
exact model that produced it. A program adds a bundle it trained (``osteo model add``:
its files go to the object store, where every worker can fetch them), compares it
(``osteo evaluate-candidate``) and an admin promotes it (admin page or ``osteo model
promote``, audited). Workers screen each new batch with the active model and every
chunk of a batch with the model that batch started with, so a promotion never mixes
two models in one batch and every result keeps the version that made it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from screening.accounts import audit
from screening.config import Settings
from screening.db.models import ModelVersion
from screening.db.session import session_scope
from screening.upserts import insert_ignore

logger = logging.getLogger(__name__)
BUNDLE_PREFIX = "models"


class ModelUnavailable(LookupError):
    """A model version this process cannot load (unknown, or its bundle is not in the object store)."""


def register_model_version(session: Session, bundle) -> None:  # type: ignore[no-untyped-def]
    """Insert the bundle's ModelVersion row if missing; the first one registered becomes active."""
    card = bundle.card.to_dict()
    has_active = session.scalar(select(ModelVersion.id).where(ModelVersion.active.is_(True)).limit(1))
    insert_ignore(session, ModelVersion,
                  [dict(id=bundle.version, name=bundle.card.name, card=card, active=has_active is None)], ("id",))


def load_active_predictor(settings: Settings):  # type: ignore[no-untyped-def]
    """The Predictor for the database's active model version, else the configured bundle.

    Imports TensorFlow: call it only in processes that serve the inference queue.
    """
    from screening.model.inference import Predictor
    from screening.model.runtime import configure_threads

    configure_threads()
    return Predictor(load_active_bundle(settings), batch_size=settings.chunk_size)


def load_active_bundle(settings: Settings):  # type: ignore[no-untyped-def]
    """The bundle of the database's active model version (from the object store), else the configured one.

    ``osteo evaluate-candidate`` compares a candidate with exactly the model the workers run.
    """
    from screening.model.bundle import load_bundle

    with session_scope(settings.database_url) as session:
        active = session.scalar(select(ModelVersion).where(ModelVersion.active.is_(True),
                                                           ModelVersion.bundle_key.is_not(None)))
        key, version = (active.bundle_key, active.id) if active else (None, None)
    if key and version:
        return _stored_bundle(settings, key, version)
    return load_bundle(settings.model_bundle)


def _stored_bundle(settings: Settings, key: str, version: str):  # type: ignore[no-untyped-def]
    from screening.model.bundle import load_bundle_from_store
    from screening.storage import open_store

    bundle = load_bundle_from_store(open_store(settings), key, f"{settings.var_dir}/model-cache")
    if bundle.version != version:
        raise RuntimeError(f"bundle at {key} is version {bundle.version}, the database expects {version}")
    return bundle


def load_version_predictor(settings: Settings, version: str):  # type: ignore[no-untyped-def]
    """A Predictor for model ``version`` from its bundle in the object store (ModelUnavailable if none)."""
    from screening.model.inference import Predictor

    with session_scope(settings.database_url) as session:
        row = session.get(ModelVersion, version)
        key = row.bundle_key if row else None
    if not key:
        raise ModelUnavailable(f"model {version} has no bundle in the object store (osteo model add)")
    return Predictor(_stored_bundle(settings, key, version), batch_size=settings.chunk_size)


def wanted_version(session: Session, pinned: str | None) -> str | None:
    """The model a chunk should use: the batch's own once it has one, else the active model (None: unknown)."""
    if pinned:
        return pinned
    return session.scalar(select(ModelVersion.id).where(ModelVersion.active.is_(True)).limit(1))


def add_bundle(session: Session, store, path: Path) -> ModelVersion:  # type: ignore[no-untyped-def]
    """Check a bundle (it must load), copy its files to ``models/{version}/`` and register it, inactive.

    Adding the same bundle again re-uploads its files and leaves the row (and whether it is active) as it is.
    """
    from screening.model.bundle import BUNDLE_FILES, load_bundle

    bundle = load_bundle(path)
    source = Path(bundle.path)
    if not source.is_dir():
        raise ValueError("give the bundle's directory (an archive is checked but not uploaded); unpack it first")
    key = f"{BUNDLE_PREFIX}/{bundle.version}"
    for name in BUNDLE_FILES:
        store.put_bytes(f"{key}/{name}", (source / name).read_bytes(), "application/octet-stream")
    insert_ignore(session, ModelVersion, [dict(id=bundle.version, name=bundle.card.name, card=bundle.card.to_dict(),
                                               active=False, bundle_key=key)], ("id",))
    row = session.get_one(ModelVersion, bundle.version)
    row.bundle_key = key
    session.flush()
    logger.info("model %s added to the object store at %s", bundle.version, key)
    return row


def promote(session: Session, version_id: str, user_id: int | None, reason: str = "",
            ip: str | None = None) -> ModelVersion:
    """Make ``version_id`` the active model for new batches (LookupError if unknown); audited with why.

    Batches already screened keep their model; batches being screened finish with theirs.
    """
    version = session.get(ModelVersion, version_id)
    if version is None:
        raise LookupError(f"no model version {version_id!r}")
    previous = session.scalar(select(ModelVersion.id).where(ModelVersion.active.is_(True),
                                                            ModelVersion.id != version_id).limit(1))
    session.execute(update(ModelVersion).where(ModelVersion.id != version.id).values(active=False))
    version.active = True
    audit(session, "model.promote", user_id=user_id, target_type="model_version", target_id=version.id, ip=ip,
          name=version.name, previous=previous, reason=reason.strip()[:500], in_store=version.bundle_key is not None)
    session.flush()
    return version
