"""The fusion network's structure, weights policy, tabular encoding and freezing."""

from __future__ import annotations

import warnings

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving import legacy_h5_format

from screening.model import (
    CLASS_NAMES,
    build_fusion_model,
    encode_tabular,
    encode_tabular_batch,
    set_backbone_trainable,
)
from screening.model.network import backbone_of, head_of


@pytest.fixture(autouse=True)
def empty_keras_cache(tmp_path, monkeypatch):
    """Every test sees an empty Keras cache unless it fills one, whatever this machine holds."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    return tmp_path / "keras-home" / "models"


def _inputs(n: int, size: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"image": rng.uniform(0, 255, (n, size, size, 3)).astype(np.float32),
            "tabular": encode_tabular_batch([600.0] * n, ["F"] * n)}


def test_compact_model_inputs_outputs_and_feature_map() -> None:
    model = build_fusion_model("compact", 64)
    probabilities = model.predict(_inputs(3, 64), verbose=0)
    assert probabilities.shape == (3, len(CLASS_NAMES))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert tuple(backbone_of(model).output.shape) == (None, 8, 8, 128)
    assert model.count_params() < 1_000_000  # keeps the demo bundle small


def test_compact_backbone_needs_no_weights_and_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_fusion_model("compact", 32)


@pytest.mark.parametrize("backbone", ["efficientnetv2b0", "efficientnetv2s"])
def test_efficientnet_without_weights_warns_random_and_predicts(backbone: str) -> None:
    with pytest.warns(RuntimeWarning, match="RANDOM weights"):
        model = build_fusion_model(backbone, 64)
    assert tuple(backbone_of(model).output.shape) == (None, 2, 2, 1280)
    assert model.predict(_inputs(2, 64), verbose=0).shape == (2, 3)


def test_imagenet_weights_come_from_keras_cache_without_download(empty_keras_cache) -> None:
    reference = keras.applications.EfficientNetV2B0(
        include_top=False, weights=None, input_shape=(64, 64, 3), include_preprocessing=True)
    empty_keras_cache.mkdir(parents=True)
    with h5py.File(empty_keras_cache / "efficientnetv2-b0_notop.h5", "w") as handle:
        legacy_h5_format.save_weights_to_hdf5_group(handle, reference)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no random-weights warning when the cache has the file
        model = build_fusion_model("efficientnetv2b0", 64)

    loaded = backbone_of(model).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(loaded, reference.get_weights(), strict=True))


def test_missing_weights_file_is_an_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        build_fusion_model("efficientnetv2b0", 64, weights=tmp_path / "absent.h5")


def test_unknown_backbone_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown backbone 'resnet'"):
        build_fusion_model("resnet", 64)


def test_encode_tabular() -> None:
    np.testing.assert_allclose(encode_tabular(720, "F"), [0.6, 1.0])
    np.testing.assert_allclose(encode_tabular(600, "m"), [0.5, 0.0])
    np.testing.assert_allclose(encode_tabular(600, None), [0.5, 0.5])
    assert encode_tabular(0, "O").dtype == np.float32
    assert encode_tabular_batch([], []).shape == (0, 2)


@pytest.mark.parametrize("age, sex", [(-1, "F"), (2000, "F"), (float("nan"), "M"), (600, "X")])
def test_encode_tabular_rejects_bad_values(age, sex) -> None:
    with pytest.raises(ValueError):
        encode_tabular(age, sex)


def test_freeze_and_partial_unfreeze_backbone() -> None:
    model = build_fusion_model("compact", 32)
    head_weights = len(head_of(model).trainable_weights)

    set_backbone_trainable(model, False)
    assert backbone_of(model).trainable_weights == []
    assert len(model.trainable_weights) == head_weights

    set_backbone_trainable(model, True, top_layers=3)  # conv3, bn3, relu3
    trainable = [layer.name for layer in backbone_of(model).layers if layer.trainable_weights]
    assert trainable == ["conv3"]  # BatchNorm stays frozen while fine-tuning

    set_backbone_trainable(model, True)
    assert {w.path.split("/")[0] for w in backbone_of(model).trainable_weights} >= {"conv0", "conv3"}
