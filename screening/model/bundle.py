"""Model bundles: ``model.keras`` + ``card.json`` in a directory or a single archive.

A bundle's version is derived from its content
(``fusion-<backbone>-<12 hex of sha256(model.keras bytes + canonical card without version)>``)
and recomputed on every load, so a prediction's recorded version really names the
weights and card that produced it; a bundle edited after saving is refused.
Archives (``.tar.gz``/``.tgz``/``.zip``) are read member by member, never extracted
by their own paths, so a hostile archive cannot write outside a temporary directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import keras

from screening.model.card import BundleError, ModelCard
from screening.model.network import BACKBONE_LAYER, HEAD_LAYER

MODEL_FILE = "model.keras"
CARD_FILE = "card.json"
BUNDLE_FILES = (MODEL_FILE, CARD_FILE)
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")


class BundleStore(Protocol):
    """The object-store methods bundle loading uses (``screening.storage`` provides them)."""

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterable[str]: ...


@dataclass
class ModelBundle:
    """A loaded (or just saved) model with its card."""

    model: keras.Model
    card: ModelCard
    path: Path

    @property
    def version(self) -> str:
        return self.card.version


def compute_version(model_file: Path, card: ModelCard) -> str:
    """The content-derived version id of a saved model file and its card."""
    digest = hashlib.sha256()
    with open(model_file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(card.canonical_json(include_version=False))
    return f"fusion-{card.backbone}-{digest.hexdigest()[:12]}"


def check_compatible(model: keras.Model, card: ModelCard) -> None:
    """Raise ``BundleError`` when the card does not describe this model."""
    names = {layer.name for layer in model.layers}
    missing = {BACKBONE_LAYER, HEAD_LAYER, "image", "tabular"} - names
    if missing:
        raise BundleError(f"model is not a fusion model: layers {sorted(missing)} are missing")
    image_shape = tuple(model.get_layer("image").output.shape[1:])
    expected = (card.input_size, card.input_size, 3)
    if image_shape != expected:
        raise BundleError(f"card input_size {card.input_size} does not match the model's "
                          f"image input {image_shape}")
    classes = int(model.output.shape[-1])
    if classes != len(card.class_names):
        raise BundleError(f"card lists {len(card.class_names)} classes {card.class_names} but "
                          f"the model outputs {classes}")


def save_bundle(model: keras.Model, card: ModelCard, directory: str | os.PathLike) -> ModelBundle:
    """Write ``model.keras`` and ``card.json`` (with its version) into a new or empty directory."""
    check_compatible(model, card)
    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise BundleError(f"refusing to overwrite non-empty bundle directory {target}")
    target.mkdir(parents=True, exist_ok=True)
    model.save(target / MODEL_FILE)
    card.version = compute_version(target / MODEL_FILE, card)
    (target / CARD_FILE).write_text(json.dumps(card.to_dict(), indent=2, sort_keys=True) + "\n")
    return ModelBundle(model=model, card=card, path=target)


def load_bundle(path: str | os.PathLike, compile: bool = False) -> ModelBundle:
    """Load a bundle directory or archive, verifying its version and compatibility.

    ``compile=False`` (inference) skips restoring the optimizer and loss.
    """
    source = Path(path)
    if source.is_dir():
        return _load_directory(source, source, compile)
    if source.is_file() and source.name.endswith(ARCHIVE_SUFFIXES):
        with tempfile.TemporaryDirectory(prefix="osteo-bundle-") as scratch:
            _unpack(source.read_bytes(), source.name, Path(scratch))
            return _load_directory(Path(scratch), source, compile)
    if not source.exists():
        raise BundleError(f"model bundle not found: {source}")
    raise BundleError(f"not a model bundle (directory or {'/'.join(ARCHIVE_SUFFIXES)}): {source}")


def load_bundle_from_store(store: BundleStore, key_prefix: str, cache_dir: str | os.PathLike,
                           version: str | None = None, compile: bool = False) -> ModelBundle:
    """Load a bundle kept in an object store, caching its files locally.

    The bundle lives at ``{key_prefix}/{version}/`` (``model.keras`` + ``card.json``) or in
    an archive ``{key_prefix}/{version}.tar.gz|.tgz|.zip``; without ``version``,
    ``key_prefix`` itself names the bundle. Each worker process downloads at most once:
    a complete cached copy whose recomputed version checks out is reused.
    """
    prefix = key_prefix.rstrip("/") + (f"/{version}" if version else "")
    cache_root = Path(cache_dir)
    cached = cache_root / (version or _safe_name(prefix))
    if (cached / CARD_FILE).is_file() and (cached / MODEL_FILE).is_file():
        try:
            return _expect_version(_load_directory(cached, cached, compile), version)
        except BundleError:
            shutil.rmtree(cached, ignore_errors=True)  # stale or damaged cache: fetch again
    cache_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".download-", dir=cache_root))
    try:
        _download(store, prefix, scratch)
        # Verify before publishing to the cache, so the cache only ever holds good bundles.
        bundle = _expect_version(_load_directory(scratch, cached, compile), version)
        # OSError: another process published the same bundle first; theirs is identical.
        with contextlib.suppress(OSError):
            os.replace(scratch, cached)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return bundle


def _download(store: BundleStore, prefix: str, target: Path) -> None:
    if store.exists(f"{prefix}/{CARD_FILE}"):
        for name in BUNDLE_FILES:
            key = f"{prefix}/{name}"
            if not store.exists(key):
                raise BundleError(f"bundle in object store is incomplete: {key} is missing")
            (target / name).write_bytes(store.get_bytes(key))
        return
    for suffix in ARCHIVE_SUFFIXES:
        if store.exists(prefix + suffix):
            _unpack(store.get_bytes(prefix + suffix), prefix + suffix, target)
            return
    nearby = sorted(store.list(prefix))[:10]
    raise BundleError(f"no model bundle at {prefix!r} in the object store (found: {nearby})")


def _expect_version(bundle: ModelBundle, version: str | None) -> ModelBundle:
    if version is not None and bundle.version != version:
        raise BundleError(f"requested model version {version} but the bundle is {bundle.version}")
    return bundle


def _read_card(directory: Path) -> ModelCard:
    card_path = directory / CARD_FILE
    if not card_path.is_file():
        raise BundleError(f"model bundle {directory} has no {CARD_FILE}")
    try:
        data = json.loads(card_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{card_path} is not valid JSON: {error}") from None
    return ModelCard.from_dict(data)


def _load_directory(directory: Path, origin: Path, compile: bool) -> ModelBundle:
    card = _read_card(directory)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise BundleError(f"model bundle {origin} has no {MODEL_FILE}")
    actual = compute_version(model_path, card)
    if card.version != actual:
        raise BundleError(f"model bundle {origin}: card version {card.version!r} does not match "
                          f"its content ({actual}); the model or card changed after saving")
    model = _load_model(model_path, origin, compile)
    check_compatible(model, card)
    return ModelBundle(model=model, card=card, path=origin)


def _load_model(model_path: Path, origin: Path, compile: bool) -> keras.Model:
    # Import for its side effect: registers the focal loss a compiled model refers to.
    import screening.model.focal_loss  # noqa: F401

    try:
        return keras.models.load_model(model_path, compile=compile)
    except Exception as error:  # keras raises many types (BadZipFile, ValueError, OSError...)
        raise BundleError(f"cannot load {MODEL_FILE} of bundle {origin}: "
                          f"{type(error).__name__}: {error}") from error


def _unpack(data: bytes, label: str, target: Path) -> None:
    """Copy the two bundle files out of an archive (at its root or in one top folder)."""
    members = _archive_members(data, label)
    for name in BUNDLE_FILES:
        if name not in members:
            raise BundleError(f"archive {label} holds no {name}")
        (target / name).write_bytes(members[name])


def _archive_members(data: bytes, label: str) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    try:
        if label.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    name = _bundle_member_name(info.filename)
                    if name and not info.is_dir():
                        found[name] = archive.read(info)
        else:
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
                for member in archive.getmembers():
                    name = _bundle_member_name(member.name)
                    content = archive.extractfile(member) if name and member.isfile() else None
                    if name and content is not None:
                        found[name] = content.read()
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as error:
        raise BundleError(f"archive {label} is unreadable: {error}") from None
    return found


def _bundle_member_name(member: str) -> str | None:
    parts = [p for p in member.replace("\\", "/").split("/") if p not in ("", ".")]
    if 1 <= len(parts) <= 2 and parts[-1] in BUNDLE_FILES and ".." not in parts:
        return parts[-1]
    return None


def _safe_name(key: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in key).strip("._") or "bundle"

