"""Bundles round-trip exactly, carry a content-derived version, and refuse damage clearly."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from screening.model import BundleError, ModelCard, load_bundle, load_bundle_from_store, save_bundle
from screening.model.bundle import BUNDLE_FILES, CARD_FILE, MODEL_FILE, compute_version

from .conftest import SIZE, make_inputs


def pack_bundle(directory: Path, archive: Path) -> Path:
    """A bundle directory packed into one archive, files at its root, as an operator would ship it."""
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive, "w") as packed:
            for name in BUNDLE_FILES:
                packed.write(directory / name, arcname=name)
    else:
        with tarfile.open(archive, "w:gz") as packed:
            for name in BUNDLE_FILES:
                packed.add(directory / name, arcname=name)
    return archive


class DictStore:
    """An in-memory object store with the three methods bundle loading uses."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.downloads = 0

    def get_bytes(self, key: str) -> bytes:
        self.downloads += 1
        return self.objects[key]

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list(self, prefix: str):
        return iter(k for k in self.objects if k.startswith(prefix))


def _predict(model, images, tabular) -> np.ndarray:
    return model.predict({"image": images, "tabular": tabular}, verbose=0)


def _rewrite_card(directory: Path, **changes) -> None:
    """Edit the card and re-sign it, so only the edit (not the version check) can fail.

    An edit that makes the card itself invalid keeps the old version: validation runs first.
    """
    data = json.loads((directory / CARD_FILE).read_text())
    data.update(changes)
    try:
        card = ModelCard.from_dict({k: v for k, v in data.items() if k != "version"})
    except BundleError:
        card = None
    if card is not None:
        data["version"] = compute_version(directory / MODEL_FILE, card)
    (directory / CARD_FILE).write_text(json.dumps(data))


def test_round_trip_gives_identical_predictions(compact_model, bundle_dir) -> None:
    images, tabular = make_inputs(5)
    bundle = load_bundle(bundle_dir)
    np.testing.assert_array_equal(_predict(bundle.model, images, tabular),
                                  _predict(compact_model, images, tabular))
    assert bundle.card.synthetic_demo is True
    assert bundle.card.preprocessing == {"size": SIZE, "clip_limit": 2.0, "tile_grid": 8}


def test_version_is_content_derived_and_stable(bundle_dir, tmp_path) -> None:
    version = load_bundle(bundle_dir).version
    assert version.startswith("fusion-compact-") and len(version) == len("fusion-compact-") + 12
    copied = shutil.copytree(bundle_dir, tmp_path / "elsewhere")
    assert load_bundle(copied).version == version  # location is not content

    _rewrite_card(copied, calibration_temperature=1.7)  # a different card is a different model
    assert load_bundle(copied).version != version


@pytest.mark.parametrize("archive_name", ["bundle.tar.gz", "bundle.zip"])
def test_archives_load_like_directories(bundle_dir, tmp_path, archive_name) -> None:
    archive = pack_bundle(bundle_dir, tmp_path / archive_name)
    bundle = load_bundle(archive)
    assert bundle.version == load_bundle(bundle_dir).version
    assert bundle.path == archive


def test_archive_with_top_folder_loads(bundle_dir, tmp_path) -> None:
    archive = tmp_path / "nested.tgz"
    with tarfile.open(archive, "w:gz") as packed:
        packed.add(bundle_dir, arcname="my-model")
    assert load_bundle(archive).card.name == "test compact"


def test_save_refuses_a_mismatched_card(compact_model, tmp_path) -> None:
    card = ModelCard(name="wrong", backbone="compact", input_size=SIZE + 32)
    with pytest.raises(BundleError, match="input_size 64 does not match"):
        save_bundle(compact_model, card, tmp_path / "b")


def test_save_refuses_to_overwrite(compact_model, bundle_dir) -> None:
    card = ModelCard(name="again", backbone="compact", input_size=SIZE)
    with pytest.raises(BundleError, match="non-empty"):
        save_bundle(compact_model, card, bundle_dir)


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / CARD_FILE).unlink(), "has no card.json"),
    (lambda d: (d / MODEL_FILE).unlink(), "has no model.keras"),
    (lambda d: (d / CARD_FILE).write_text("{not json"), "not valid JSON"),
    (lambda d: _rewrite_card(d, input_size=64, preprocessing={"size": 64}), "does not match the model"),
    (lambda d: _rewrite_card(d, class_names=["a", "b", "c", "d"]), "4 classes"),
    (lambda d: _rewrite_card(d, schema_version=2), "unsupported model card schema_version 2"),
    (lambda d: _rewrite_card(d, surprise=1), "unknown fields"),
    (lambda d: _rewrite_card(d, preprocessing={"size": SIZE, "clip_limit": -1}), "clip_limit"),
    (lambda d: (d / MODEL_FILE).write_bytes((d / MODEL_FILE).read_bytes()[:-100]), "does not match its content"),
])
def test_damaged_bundles_raise_bundle_error(bundle_copy, damage, message) -> None:
    damage(bundle_copy)
    with pytest.raises(BundleError, match=message):
        load_bundle(bundle_copy)


def test_truncated_model_file_with_matching_card_is_a_bundle_error(bundle_copy) -> None:
    model_file = bundle_copy / MODEL_FILE
    model_file.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    _rewrite_card(bundle_copy)
    with pytest.raises(BundleError, match="cannot load model.keras"):
        load_bundle(bundle_copy)


def test_not_a_bundle(tmp_path) -> None:
    with pytest.raises(BundleError, match="not found"):
        load_bundle(tmp_path / "absent")
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(BundleError, match="not a model bundle"):
        load_bundle(tmp_path / "model.bin")
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(BundleError, match="unreadable"):
        load_bundle(tmp_path / "broken.zip")


def test_load_from_store_by_version_downloads_once(bundle_dir, tmp_path) -> None:
    version = load_bundle(bundle_dir).version
    store = DictStore()
    for name in (MODEL_FILE, CARD_FILE):
        store.objects[f"models/{version}/{name}"] = (bundle_dir / name).read_bytes()

    first = load_bundle_from_store(store, "models/", tmp_path / "cache", version=version)
    downloads = store.downloads
    second = load_bundle_from_store(store, "models", tmp_path / "cache", version=version)

    assert first.version == second.version == version
    assert downloads == 2 and store.downloads == 2  # the second load came from the cache
    assert second.path == tmp_path / "cache" / version


def test_load_from_store_archive_and_errors(bundle_dir, tmp_path) -> None:
    version = load_bundle(bundle_dir).version
    store = DictStore()
    store.objects[f"models/{version}.zip"] = pack_bundle(bundle_dir, tmp_path / "b.zip").read_bytes()
    assert load_bundle_from_store(store, "models", tmp_path / "c1", version=version).version == version

    with pytest.raises(BundleError, match="no model bundle at 'models/fusion-compact-000000000000'"):
        load_bundle_from_store(store, "models", tmp_path / "c2", version="fusion-compact-000000000000")

    store.objects["models/other.zip"] = store.objects[f"models/{version}.zip"]  # misfiled copy
    with pytest.raises(BundleError, match=f"requested model version other but the bundle is {version}"):
        load_bundle_from_store(store, "models", tmp_path / "c3", version="other")
    assert not (tmp_path / "c3" / "other").exists()  # a wrong bundle never enters the cache
