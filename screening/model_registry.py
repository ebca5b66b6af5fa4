"""Model versions known to the database, and which bundle a worker should load.

The bundle's content-derived version is the primary key, so registering the same
bundle from many workers at once is one row, and every prediction points at the
exact model that produced it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from screening.config import Settings
from screening.db.models import ModelVersion
from screening.db.session import session_scope
from screening.upserts import insert_ignore


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
    from screening.model.bundle import load_bundle, load_bundle_from_store
    from screening.storage import open_store

    with session_scope(settings.database_url) as session:
        active = session.scalar(select(ModelVersion).where(ModelVersion.active.is_(True),
                                                           ModelVersion.bundle_key.is_not(None)))
        key, version = (active.bundle_key, active.id) if active else (None, None)
    if key:
        bundle = load_bundle_from_store(open_store(settings), key, f"{settings.var_dir}/model-cache")
        if bundle.version != version:
            raise RuntimeError(f"bundle at {key} is version {bundle.version}, the database expects {version}")
        return bundle
    return load_bundle(settings.model_bundle)
