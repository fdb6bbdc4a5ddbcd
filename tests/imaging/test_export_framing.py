"""Export framing never cuts the person: cover crop when it keeps the figure, fit and extend when not."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from posegen.imaging.backgrounds import GradientBackground, SolidBackground
from posegen.imaging.exports import render_all
from posegen.imaging.framing import FIGURE_MARGIN, Box, cover_crop_box, figure_margin_box, place
from posegen.imaging.geometry import figure_box
from posegen.imaging.mannequin import render_mannequin
from posegen.imaging.presets import PRESETS, ExportPreset
from posegen.kit.openpose import Point
from posegen.library.poses import POSES
from tests.imaging.poses import STANDING

# A green no mannequin palette comes near, so "not background" is "figure".
BACKDROP = (10, 200, 30)
SIZED = [preset for preset in PRESETS.values() if preset.width is not None]


def library_pose(slug: str) -> tuple[list[Point], list[float]]:
    spec = next(spec for spec in POSES if spec.slug == slug)
    return list(spec.keypoints.points), list(spec.keypoints.depth)


@dataclass(frozen=True)
class Scene:
    image: Image.Image
    mask: NDArray[np.bool_]
    focus: Box
    exports: dict[str, bytes]


def render_scene(points: list[Point], depth: list[float]) -> Scene:
    render = render_mannequin(points, depth, 1024, 1024, background=SolidBackground(BACKDROP))
    focus = figure_box(points, render.transform, padded=True)
    exports = render_all(render.image, list(PRESETS), focus)
    return Scene(render.image, np.asarray(render.mask) > 127, focus, exports)


@pytest.fixture(scope="module", params=["standing", "star-jump", "tree-pose", "warrior-ii"])
def scene(request: pytest.FixtureRequest) -> Scene:
    if request.param == "standing":
        return render_scene(STANDING, [0.0] * 18)
    return render_scene(*library_pose(request.param))


def figure_pixels(image: Image.Image) -> NDArray[np.bool_]:
    array = np.asarray(image.convert("RGB"), dtype=np.int16)
    distance = np.abs(array - np.array(BACKDROP, dtype=np.int16)).max(axis=2)
    return np.asarray(distance > 48)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("preset", SIZED, ids=[preset.key for preset in SIZED])
def test_the_whole_figure_box_and_margin_lie_inside_every_export(scene: Scene, preset: ExportPreset) -> None:
    assert preset.width is not None and preset.height is not None
    placement = place(1024, 1024, preset.width, preset.height, scene.focus)
    need = figure_margin_box(scene.focus, 1024, 1024)
    assert need is not None
    left, top = placement.map_point(need[0], need[1])
    right, bottom = placement.map_point(need[2], need[3])
    assert 0 <= left < right <= preset.width and 0 <= top < bottom <= preset.height
    # The mapping is a uniform scale (to within the rounding of a pixel).
    s_left, s_top, s_right, s_bottom = placement.source
    t_left, t_top, t_right, t_bottom = placement.target
    scale_x, scale_y = (t_right - t_left) / (s_right - s_left), (t_bottom - t_top) / (s_bottom - s_top)
    assert scale_x == pytest.approx(scale_y, rel=0.01)


@pytest.mark.parametrize("preset", SIZED, ids=[preset.key for preset in SIZED])
def test_every_figure_pixel_reaches_the_export(scene: Scene, preset: ExportPreset) -> None:
    image = decode(scene.exports[preset.key])
    assert image.size == (preset.width, preset.height)
    assert preset.width is not None and preset.height is not None
    placement = place(1024, 1024, preset.width, preset.height, scene.focus)
    s_left, s_top, s_right, s_bottom = placement.source
    t_left, t_top, t_right, t_bottom = placement.target
    area = (t_right - t_left) * (t_bottom - t_top) / ((s_right - s_left) * (s_bottom - s_top))
    expected = scene.mask.sum() * area
    found = figure_pixels(image)
    # A cut at the knees or above the eyes loses a fifth of the figure or more; resampling, the
    # anti-aliased outline and JPEG move the count by a couple of percent.
    assert found.sum() == pytest.approx(expected, rel=0.04)
    # The margin keeps the figure off the edges.
    assert not found[:2].any() and not found[-2:].any()
    assert not found[:, :2].any() and not found[:, -2:].any()


def test_a_standing_figure_in_a_landscape_post_is_fitted_not_cut() -> None:
    render = render_mannequin(STANDING, [0.0] * 18, 1024, 1024)
    focus = figure_box(STANDING, render.transform, padded=True)
    crop = cover_crop_box(1024, 1024, 1200, 630, focus)
    assert crop[1] > focus[1] and crop[3] < focus[3]  # what the plain cover crop did: head and feet cut
    placement = place(1024, 1024, 1200, 630, focus)
    assert placement.fitted
    assert placement.target[1] == 0 and placement.target[3] == 630  # as tall as the post allows
    assert placement.target[0] > 0 and placement.target[2] < 1200  # with extension either side


def test_the_cover_crop_is_kept_when_it_holds_the_figure() -> None:
    focus = (450, 450, 570, 570)
    placement = place(1024, 1024, 1200, 630, focus)
    assert not placement.fitted
    assert placement.source == cover_crop_box(1024, 1024, 1200, 630, focus)
    assert placement.target == (0, 0, 1200, 630)


def test_the_margin_is_four_percent_of_the_figure_height_clamped_to_the_image() -> None:
    assert FIGURE_MARGIN == 0.04
    assert figure_margin_box((100, 100, 300, 600), 1024, 1024) == (80, 80, 320, 620)
    assert figure_margin_box((0, 10, 300, 1010), 1024, 1024) == (0, 0, 340, 1024)
    assert figure_margin_box((2000, 0, 2100, 100), 1024, 1024) is None


def test_without_a_figure_the_export_is_the_centred_cover_crop() -> None:
    placement = place(1024, 1024, 1200, 630)
    assert not placement.fitted and placement.source == cover_crop_box(1024, 1024, 1200, 630)


@pytest.mark.parametrize("key", ["print_4x6", "facebook_post", "instagram_story"])
def test_a_solid_background_extends_in_exactly_its_colour(key: str) -> None:
    points, depth = library_pose("star-jump")  # too wide for a story, too tall for a post
    render = render_mannequin(points, depth, 1024, 1024, background=SolidBackground(BACKDROP))
    focus = figure_box(points, render.transform, padded=True)
    preset = PRESETS[key]
    assert preset.width is not None and preset.height is not None
    placement = place(1024, 1024, preset.width, preset.height, focus)
    assert placement.fitted
    array = np.asarray(decode(render_all(render.image, [key], focus)[key]), dtype=np.int16)
    t_left, t_top, t_right, t_bottom = placement.target
    outside = np.ones(array.shape[:2], dtype=bool)
    outside[t_top:t_bottom, t_left:t_right] = False
    assert outside.any()
    difference = np.abs(array[outside] - np.array(BACKDROP, dtype=np.int16))
    if preset.format == "png":
        assert difference.max() == 0  # lossless: the very colour
    else:
        assert difference.max() <= 3  # JPEG's rounding of a flat area


def test_a_gradient_background_continues_into_the_extension() -> None:
    top, bottom = (240, 40, 40), (40, 40, 240)
    render = render_mannequin(STANDING, [0.0] * 18, 1024, 1024, background=GradientBackground(top, bottom))
    focus = figure_box(STANDING, render.transform, padded=True)
    placement = place(1024, 1024, 1800, 1200, focus)
    t_left = placement.target[0]
    assert t_left > 20
    array = np.asarray(decode(render_all(render.image, ["print_4x6"], focus)["print_4x6"]), dtype=np.int16)
    # The far left column of the extension has the colour of the image's left edge, row by row.
    extension, edge = array[:, 0], array[:, t_left]
    assert np.abs(extension - edge).max() <= 6
    assert extension[0, 0] > 200 and extension[-1, 2] > 200  # red at the top, blue at the bottom


def test_a_textured_edge_is_blurred_in_the_extension() -> None:
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 256, size=(1024, 1024, 3), dtype=np.uint8), "RGB")
    ImageDraw.Draw(image).rectangle((400, 20, 620, 1000), fill=(255, 0, 0))
    placement = place(1024, 1024, 1200, 630, (400, 20, 621, 1001))
    assert placement.fitted
    array = np.asarray(decode(render_all(image, ["facebook_post"], (400, 20, 621, 1001))["facebook_post"]))
    extension = array[:, 5].astype(np.int16)
    inside = array[:, placement.target[0] + 5].astype(np.int16)
    # Neighbouring rows of the extension differ far less than those of the sharp image beside it.
    assert np.abs(np.diff(extension, axis=0)).mean() < np.abs(np.diff(inside, axis=0)).mean() / 4


@given(
    src=st.tuples(st.integers(16, 4000), st.integers(16, 4000)),
    dst=st.tuples(st.integers(16, 3000), st.integers(16, 3000)),
    corner=st.tuples(st.floats(-0.2, 0.95), st.floats(-0.2, 0.95)),
    extent=st.tuples(st.floats(0.02, 1.3), st.floats(0.02, 1.3)),
)
def test_any_placement_keeps_the_figure_and_margin_inside_a_full_size_export(
    src: tuple[int, int], dst: tuple[int, int], corner: tuple[float, float], extent: tuple[float, float]
) -> None:
    left, top = int(corner[0] * src[0]), int(corner[1] * src[1])
    focus = (left, top, left + max(1, int(extent[0] * src[0])), top + max(1, int(extent[1] * src[1])))
    need = figure_margin_box(focus, *src)
    assume(need is not None)
    assert need is not None
    placement = place(*src, *dst, focus)
    assert placement.size == dst
    s_left, s_top, s_right, s_bottom = placement.source
    t_left, t_top, t_right, t_bottom = placement.target
    assert 0 <= s_left < s_right <= src[0] and 0 <= s_top < s_bottom <= src[1]
    assert 0 <= t_left < t_right <= dst[0] and 0 <= t_top < t_bottom <= dst[1]
    x0, y0 = placement.map_point(need[0], need[1])
    x1, y1 = placement.map_point(need[2], need[3])
    eps = 1e-6  # float rounding of the mapping only
    assert x0 >= -eps and x1 <= dst[0] + eps and y0 >= -eps and y1 <= dst[1] + eps
    if not placement.fitted:
        assert placement.target == (0, 0, *dst)
