"""Training reads the same hand region ingest stores: one preprocessing for both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from screening.anatomy.prepare import crop_bounds, hand_region  # noqa: E402
from screening.imaging import PreprocessParams, decode_image, preprocess  # noqa: E402
from training.dataset import load_model_input, locate_hands  # noqa: E402
from training.phantoms import write_dataset  # noqa: E402


def test_training_input_is_the_ingest_crop_through_the_model_preprocessing(tmp_path) -> None:
    write_dataset(tmp_path, count=2, seed=3, size=256, workers=1)
    paths = sorted(str(p) for p in (tmp_path / "images").glob("*.png"))
    params = PreprocessParams(size=64, clip_limit=2.0, tile_grid=8)
    boxes = locate_hands(paths)
    for path, box in zip(paths, boxes, strict=True):
        pixels = decode_image(Path(path).read_bytes(), filename=path).pixels
        crop, verdict = hand_region(pixels)
        assert verdict.verdict == "accepted" and tuple(box) == verdict.hand_box
        x0, y0, x1, y1 = crop_bounds(verdict.hand_box, pixels.shape[1], pixels.shape[0])
        assert crop.shape == (y1 - y0, x1 - x0) == (x1 - x0, x1 - x0)  # square, no letterbox later
        expected = preprocess(crop, **params.to_dict()).model_input
        assert np.array_equal(load_model_input(path, params, verdict.hand_box), expected)


def test_training_films_get_film_context_drawn_once_per_image(tmp_path) -> None:
    write_dataset(tmp_path, count=1, seed=4, size=256, workers=1)
    path = str(next((tmp_path / "images").glob("*.png")))
    params = PreprocessParams(size=64, clip_limit=2.0, tile_grid=8)
    box = tuple(int(v) for v in locate_hands([path])[0])
    plain = load_model_input(path, params, box)  # type: ignore[arg-type]
    drawn = [load_model_input(path, params, box, np.random.default_rng((42, i))) for i in range(4)]  # type: ignore[arg-type]
    assert drawn[0].shape == plain.shape
    assert np.array_equal(drawn[0], load_model_input(path, params, box, np.random.default_rng((42, 0))))  # type: ignore[arg-type]
    assert any(not np.array_equal(d, plain) for d in drawn)


def test_stored_hand_crops_are_used_whole_as_inference_uses_them(tmp_path, monkeypatch) -> None:
    """``hand_crop=yes`` rows (osteo export-training) skip the gate: the file already is the stored region."""
    from screening.imaging.stored import decode_normalised_png, encode_normalised_png
    from training import dataset

    write_dataset(tmp_path, count=1, seed=4, size=256, workers=1)
    path = str(next((tmp_path / "images").glob("*.png")))
    crop, _verdict = hand_region(decode_image(Path(path).read_bytes(), filename=path).pixels)
    stored = tmp_path / "stored.png"
    stored.write_bytes(encode_normalised_png(crop))
    asked: list[str] = []
    monkeypatch.setattr(dataset, "hand_region", lambda pixels: asked.append("gate") or hand_region(pixels))
    boxes = locate_hands([str(stored), path], cropped=[True, False])
    assert asked == ["gate"] and tuple(boxes[0]) == dataset.NO_BOX
    params = PreprocessParams(size=64, clip_limit=2.0, tile_grid=8)
    at_screening = preprocess(decode_normalised_png(stored.read_bytes()), **params.to_dict()).model_input
    assert np.array_equal(load_model_input(str(stored), params, None), at_screening)
