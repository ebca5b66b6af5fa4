"""Small fusion models and bundles shared by the model tests (compact backbone, 32 px)."""

from __future__ import annotations

import shutil
from pathlib import Path

import keras
import numpy as np
import pytest

from screening.model import ModelCard, build_fusion_model, encode_tabular_batch, save_bundle

SIZE = 32


def make_inputs(n: int, size: int = SIZE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random images in [0, 255] and valid tabular rows."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0, 255, (n, size, size, 3)).astype(np.float32)
    tabular = encode_tabular_batch(rng.uniform(240, 1100, n), rng.choice(["F", "M"], n))
    return images, tabular


@pytest.fixture(scope="session")
def compact_model() -> keras.Model:
    keras.utils.set_random_seed(7)
    return build_fusion_model("compact", SIZE)


@pytest.fixture(scope="session")
def bundle_dir(compact_model, tmp_path_factory) -> Path:
    """A saved bundle; tests that damage it work on ``bundle_copy`` instead."""
    card = ModelCard(name="test compact", backbone="compact", input_size=SIZE, synthetic_demo=True)
    directory = tmp_path_factory.mktemp("bundles") / "compact"
    save_bundle(compact_model, card, directory)
    return directory


@pytest.fixture
def bundle_copy(bundle_dir, tmp_path) -> Path:
    target = tmp_path / "bundle"
    shutil.copytree(bundle_dir, target)
    return target
