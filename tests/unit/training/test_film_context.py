"""Real-film context for training phantoms: it surrounds the hand and never covers or cuts it."""

from __future__ import annotations

import numpy as np

from training.film_context import _label, _narrow, add_film_context


def phantom_like(height: int = 200, width: int = 200) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A dark film with a bright 'hand' block and its box."""
    film = np.full((height, width), 0.08, np.float32)
    film[40:180, 70:130] = 0.7
    return film, (65, 35, 135, 185)


def test_a_narrowed_film_keeps_the_box_and_its_pixels() -> None:
    film, box = phantom_like()
    for seed in range(20):
        narrow, moved = _narrow(film, box, np.random.default_rng(seed))
        x0, y0, x1, y1 = moved
        assert narrow.shape[0] == 200 and narrow.shape[1] >= 120  # at least 0.6 x the height
        assert x0 >= 0 and x1 <= narrow.shape[1] and (y0, y1) == (35, 185)
        assert np.array_equal(narrow[y0:y1, x0:x1], film[35:185, 65:135])


def test_labels_go_on_the_background_never_on_the_hand() -> None:
    film, _ = phantom_like()
    labelled = film.copy()
    for seed in range(30):
        _label(labelled, np.random.default_rng(seed))
    assert not np.array_equal(labelled, film)  # some labels were drawn
    assert np.array_equal(labelled[40:180, 70:130], film[40:180, 70:130])


def test_the_same_generator_gives_the_same_film_and_values_stay_in_range() -> None:
    film, box = phantom_like()
    first, box_a = add_film_context(film, box, np.random.default_rng(3))
    again, box_b = add_film_context(film, box, np.random.default_rng(3))
    assert np.array_equal(first, again) and box_a == box_b
    assert first.dtype == np.float32 and first.min() >= 0.0 and first.max() <= 1.0
    assert np.array_equal(film, phantom_like()[0])  # the input is not changed
