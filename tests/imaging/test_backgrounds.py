"""Backgrounds: solid, vertical gradient, cover-fitted image; hex colour parsing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from posegen.imaging.backgrounds import (
    GradientBackground,
    ImageBackground,
    SolidBackground,
    parse_hex_color,
    render_background,
)


def test_solid_is_uniform() -> None:
    image = render_background(SolidBackground((12, 200, 99)), 64, 40)
    assert image.mode == "RGB" and image.size == (64, 40)
    arr = np.asarray(image)
    assert (arr == np.array([12, 200, 99], dtype=np.uint8)).all()


@pytest.mark.parametrize("height", [2, 7, 300])
def test_gradient_runs_from_top_to_bottom_monotonically(height: int) -> None:
    top, bottom = (250, 10, 128), (20, 240, 128)
    image = render_background(GradientBackground(top, bottom), 33, height)
    assert image.mode == "RGB" and image.size == (33, height)
    arr = np.asarray(image, dtype=np.int32)
    assert (arr == arr[:, :1, :]).all()  # every row is one colour
    column = arr[:, 0, :]
    assert tuple(column[0]) == top
    assert tuple(column[-1]) == bottom
    steps = np.diff(column, axis=0)
    assert (steps[:, 0] <= 0).all()  # red falls
    assert (steps[:, 1] >= 0).all()  # green rises
    assert (steps[:, 2] == 0).all()  # blue stays


def test_single_row_gradient_is_the_top_colour() -> None:
    arr = np.asarray(render_background(GradientBackground((1, 2, 3), (200, 200, 200)), 5, 1))
    assert (arr == np.array([1, 2, 3], dtype=np.uint8)).all()


def test_image_background_covers_the_canvas_and_crops_the_centre() -> None:
    # A wide source: green bands at both ends, red in the middle square.
    source = Image.new("RGB", (300, 100), (0, 200, 0))
    source.paste((220, 0, 0), (100, 0, 200, 100))
    image = render_background(ImageBackground(source), 80, 80)
    assert image.mode == "RGB" and image.size == (80, 80)
    arr = np.asarray(image, dtype=np.int32)
    # Scaled to cover (height 80), the centre crop is the red square; its 2 px rim may mix with green.
    inner = arr[:, 3:-3]
    assert (np.abs(inner - np.array([220, 0, 0])) <= 6).all()


def test_image_background_fills_a_canvas_of_another_shape() -> None:
    source = Image.new("RGB", (50, 90), (30, 60, 90))
    image = render_background(ImageBackground(source), 160, 40)
    assert image.size == (160, 40)
    arr = np.asarray(image, dtype=np.int32)
    assert (np.abs(arr - np.array([30, 60, 90])) <= 1).all()  # no bars: every pixel is the source


def test_transparent_image_is_flattened_onto_white() -> None:
    source = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    image = render_background(ImageBackground(source), 10, 10)
    assert image.mode == "RGB"
    assert (np.asarray(image) == 255).all()


def test_parse_hex_color_accepts_either_case() -> None:
    assert parse_hex_color("#1A2b3C") == (0x1A, 0x2B, 0x3C)
    assert parse_hex_color("#000000") == (0, 0, 0)
    assert parse_hex_color("#ffffff") == (255, 255, 255)


@pytest.mark.parametrize(
    "value", ["red", "#12345", "#GGGGGG", "123456", "#1234567", "#12345\n", " #123456", ""]
)
def test_parse_hex_color_rejects_anything_else(value: str) -> None:
    with pytest.raises(ValueError, match="#RRGGBB"):
        parse_hex_color(value)


def test_colours_are_validated() -> None:
    with pytest.raises(ValueError, match="color"):
        SolidBackground((256, 0, 0))
    with pytest.raises(ValueError, match="bottom"):
        GradientBackground((0, 0, 0), (0, 0, -1))
    with pytest.raises(ValueError, match="positive"):
        render_background(SolidBackground((0, 0, 0)), 0, 10)
