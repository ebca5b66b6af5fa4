"""The hand crop the model reads: a square of film around the gate's box, mapped back one to one."""

from __future__ import annotations

import numpy as np
import pytest

from screening.anatomy.prepare import crop_bounds, crop_hand
from screening.imaging import preprocess


def numbered_film(height: int, width: int) -> np.ndarray:
    """Each pixel holds a value unique to its (x, y), so a crop pixel names its film pixel."""
    ys, xs = np.mgrid[0:height, 0:width]
    return ((ys * width + xs) / (height * width)).astype(np.float32)


def film_pixel(film: np.ndarray, value: float) -> tuple[int, int]:
    y, x = np.argwhere(film == value)[0]
    return int(x), int(y)


@pytest.mark.parametrize(
    ("height", "width", "box"),
    [
        (400, 300, (100, 50, 200, 350)),  # tall box, film wide enough: more film left and right
        (300, 400, (50, 100, 350, 200)),  # wide box: more film above and below
        (400, 300, (0, 10, 60, 250)),  # box at the left edge: the square shifts onto the film
        (400, 300, (240, 0, 300, 280)),  # box at the right and top edges
        (500, 500, (0, 0, 500, 500)),  # the whole film
    ],
)
def test_a_film_wide_enough_gives_a_square_of_film_only(height: int, width: int, box: tuple[int, ...]) -> None:
    film = numbered_film(height, width)
    x0, y0, x1, y1 = crop_bounds(box, width, height)  # type: ignore[arg-type]
    side = max(box[2] - box[0], box[3] - box[1])
    assert x1 - x0 == y1 - y0 == side
    assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height  # on the film: no fill
    assert x0 <= box[0] and y0 <= box[1] and box[2] <= x1 and box[3] <= y1  # the box is inside
    crop = crop_hand(film, box)  # type: ignore[arg-type]
    assert crop.shape == (side, side) and crop.flags.c_contiguous
    for cy, cx in [(0, 0), (side - 1, side - 1), (side // 3, side // 2)]:
        assert film_pixel(film, crop[cy, cx]) == (x0 + cx, y0 + cy)  # crop pixel -> file pixel


def test_the_square_is_centred_on_the_box_where_the_film_allows() -> None:
    assert crop_bounds((100, 50, 200, 350), 300, 400) == (0, 50, 300, 350)  # 300 wide: all of it
    assert crop_bounds((120, 100, 180, 200), 300, 400) == (100, 100, 200, 200)  # centred: 20 px each side
    assert crop_bounds((0, 10, 60, 250), 300, 400) == (0, 10, 240, 250)  # shifted onto the film
    assert crop_bounds((240, 0, 300, 280), 300, 400) == (20, 0, 300, 280)


def test_a_film_narrower_than_the_square_keeps_all_of_it_and_repeats_its_edges() -> None:
    film = numbered_film(400, 200)  # portrait film, the hand fills its height
    box = (20, 0, 180, 400)
    x0, y0, x1, y1 = crop_bounds(box, 200, 400)
    assert (x0, y0, x1, y1) == (-100, 0, 300, 400)  # the whole width, 100 px of fill each side
    crop = crop_hand(film, box)
    assert crop.shape == (400, 400)
    assert np.array_equal(crop[:, 100:300], film)  # every film pixel, in place: file x = x0 + crop x
    assert np.array_equal(crop[:, :100], np.repeat(film[:, :1], 100, axis=1))  # edge column repeated
    assert np.array_equal(crop[:, 300:], np.repeat(film[:, -1:], 100, axis=1))


def test_an_odd_fill_is_split_and_the_model_input_has_no_letterbox() -> None:
    film = np.full((301, 150), 0.5, np.float32)
    x0, _, x1, _ = crop_bounds((10, 0, 140, 301), 150, 301)
    assert (x0, x1) == (-75, 226) and x1 - x0 == 301
    crop = crop_hand(film, (10, 0, 140, 301))
    prepared = preprocess(crop, size=64)
    assert crop.shape == (301, 301)
    assert prepared.clahe.min() > 0  # no black bars: a square fills the whole input


def test_no_box_squares_the_whole_film_and_a_box_off_the_film_is_refused() -> None:
    assert crop_bounds(None, 300, 200) == (0, -50, 300, 250)
    assert crop_hand(np.zeros((200, 300), np.float32), None).shape == (300, 300)
    with pytest.raises(ValueError, match="not inside"):
        crop_bounds((10, 10, 400, 100), 300, 200)
    with pytest.raises(ValueError, match="not inside"):
        crop_hand(np.zeros((200, 300), np.float32), (50, 60, 40, 100))
