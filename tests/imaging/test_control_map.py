"""The OpenPose control map: every limb and joint in its colour, nothing else on black."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from posegen.imaging.control_map import (
    OPENPOSE_COLORS,
    default_stick_width,
    joint_color,
    limb_color,
    render_control_map,
)
from posegen.imaging.geometry import Transform, fit_transform, stretch_transform
from posegen.kit.openpose import LIMBS, Point
from tests.imaging.poses import ABSENT, pose

# Faces are drawn a little large so the short face limbs have room between their joint circles.
STANDING = pose(
    k0=(0.5, 0.17), k1=(0.5, 0.28), k2=(0.4, 0.29), k3=(0.36, 0.43), k4=(0.34, 0.57),
    k5=(0.6, 0.29), k6=(0.64, 0.43), k7=(0.66, 0.57), k8=(0.44, 0.55), k9=(0.43, 0.72),
    k10=(0.42, 0.9), k11=(0.56, 0.55), k12=(0.57, 0.72), k13=(0.58, 0.9), k14=(0.47, 0.14),
    k15=(0.53, 0.14), k16=(0.43, 0.15), k17=(0.57, 0.15),
)  # fmt: skip
RAISED_ARMS = pose(
    k0=(0.5, 0.27), k1=(0.5, 0.38), k2=(0.4, 0.39), k3=(0.32, 0.27), k4=(0.27, 0.12),
    k5=(0.6, 0.39), k6=(0.68, 0.27), k7=(0.73, 0.12), k8=(0.44, 0.63), k9=(0.42, 0.78),
    k10=(0.41, 0.94), k11=(0.56, 0.63), k12=(0.58, 0.78), k13=(0.59, 0.94), k14=(0.47, 0.24),
    k15=(0.53, 0.24), k16=(0.43, 0.25), k17=(0.57, 0.25),
)  # fmt: skip
# The right knee and ankle were not detected; their coordinates are left in, confidence 0.
ABSENT_LEG = list(STANDING)
ABSENT_LEG[9] = (0.43, 0.72, 0.0)
ABSENT_LEG[10] = (0.42, 0.9, 0.0)
POSES = {"standing": STANDING, "raised_arms": RAISED_ARMS, "absent_leg": ABSENT_LEG}


def pixels(image: Image.Image) -> NDArray[np.int32]:
    return np.asarray(image, dtype=np.int32)


def segment_distance(
    xs: NDArray[np.float64], ys: NDArray[np.float64], a: Point, b: Point
) -> NDArray[np.float64]:
    """Distance from each (xs, ys) to the segment a–b."""
    ax, ay, bx, by = a[0], a[1], b[0], b[1]
    dx, dy = bx - ax, by - ay
    t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
    return np.asarray(np.hypot(xs - (ax + t * dx), ys - (ay + t * dy)), dtype=np.float64)


def drawn_limbs(px: list[Point]) -> list[int]:
    return [i for i, (a, b) in enumerate(LIMBS) if px[a][2] > 0 and px[b][2] > 0]


def check_map(points: list[Point], width: int, height: int, transform: Transform | None) -> None:
    """The full proof for one pose: limb colours along every limb, joint colours, black elsewhere."""
    image = render_control_map(points, width, height, transform=transform)
    assert image.mode == "RGB" and image.size == (width, height)
    arr = pixels(image)
    px = (transform or stretch_transform(width, height)).apply(points)
    stick = default_stick_width(width, height)
    radius = stick
    joints = [i for i, p in enumerate(px) if p[2] > 0]
    limbs = drawn_limbs(px)
    slack = 1.5  # rasterisation rounds to whole pixels

    def colour_at(x: float, y: float) -> tuple[int, ...]:
        return tuple(int(v) for v in arr[round(y), round(x)])

    def near_joint(x: float, y: float) -> bool:
        return any(np.hypot(x - px[j][0], y - px[j][1]) <= radius + slack for j in joints)

    for limb in limbs:
        a, b = px[LIMBS[limb][0]], px[LIMBS[limb][1]]
        checked = 0
        for t in (0.25, 0.5, 0.75):
            x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
            later = [
                other
                for other in limbs
                if other > limb
                and segment_distance(np.array([x]), np.array([y]), px[LIMBS[other][0]], px[LIMBS[other][1]])[
                    0
                ]
                <= stick + slack
            ]
            if near_joint(x, y) or later:
                # Something drawn later covers this sample; the fixtures keep every midpoint clear.
                assert t != 0.5, f"limb {limb}: fixture midpoint is covered"
                continue
            assert colour_at(x, y) == limb_color(limb), f"limb {limb} at {t:.0%}"
            checked += 1
        assert checked >= 1

    for j in joints:
        covered_later = any(
            np.hypot(px[j][0] - px[k][0], px[j][1] - px[k][1]) <= 2 * radius + slack for k in joints if k > j
        )
        if not covered_later:
            assert colour_at(px[j][0], px[j][1]) == joint_color(j), f"joint {j}"

    # Far from every drawn limb and joint the map is pure black.
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    near = np.zeros((height, width), dtype=bool)
    for limb in limbs:
        near |= segment_distance(xs, ys, px[LIMBS[limb][0]], px[LIMBS[limb][1]]) <= stick + slack
    for j in joints:
        near |= np.hypot(xs - px[j][0], ys - px[j][1]) <= radius + slack
    assert not arr[~near].any()
    # And what is drawn uses only the colours of the limbs and joints present.
    allowed = {(0, 0, 0)} | {limb_color(i) for i in limbs} | {joint_color(j) for j in joints}
    packed = np.unique((arr[:, :, 0] << 16) | (arr[:, :, 1] << 8) | arr[:, :, 2])
    used = {(int(v) >> 16, (int(v) >> 8) & 255, int(v) & 255) for v in packed}
    assert used <= allowed
    assert {limb_color(i) for i in limbs} <= used


@pytest.mark.parametrize("name", list(POSES))
def test_square_map_with_the_stretch_transform(name: str) -> None:
    check_map(POSES[name], 512, 512, None)


@pytest.mark.parametrize("name", list(POSES))
def test_non_square_map_with_the_stretch_transform(name: str) -> None:
    check_map(POSES[name], 768, 512, None)


@pytest.mark.parametrize("name", list(POSES))
@pytest.mark.parametrize("size", [(768, 512), (512, 768)])
def test_non_square_map_with_a_fit_transform(name: str, size: tuple[int, int]) -> None:
    width, height = size
    check_map(POSES[name], width, height, fit_transform(POSES[name], width, height))


def test_nothing_is_drawn_near_absent_points() -> None:
    width = height = 512
    arr = pixels(render_control_map(ABSENT_LEG, width, height))
    full = pixels(render_control_map(STANDING, width, height))
    for index in (9, 10):
        x, y = ABSENT_LEG[index][0] * width, ABSENT_LEG[index][1] * height
        window = arr[round(y) - 8 : round(y) + 9, round(x) - 8 : round(x) + 9]
        assert not window.any(), f"something drawn near absent keypoint {index}"
        assert full[round(y) - 8 : round(y) + 9, round(x) - 8 : round(x) + 9].any()  # the check can fail
    # Absent points sit at (0, 0) by convention: a careless renderer would draw there.
    assert not arr[:16, :16].any()


def test_limb_colours_are_sixty_percent_of_the_openpose_colours() -> None:
    assert len(OPENPOSE_COLORS) == 18
    assert OPENPOSE_COLORS[0] == (255, 0, 0) and OPENPOSE_COLORS[17] == (255, 0, 85)
    assert limb_color(0) == (153, 0, 0)
    assert limb_color(3) == (153, 153, 0)
    assert limb_color(16) == (153, 0, 102)
    assert [joint_color(i) for i in range(18)] == list(OPENPOSE_COLORS)
    with pytest.raises(IndexError):
        limb_color(17)
    with pytest.raises(IndexError):
        joint_color(18)


def test_stick_width_scales_with_the_canvas_and_can_be_set() -> None:
    assert default_stick_width(512, 512) == 4
    assert default_stick_width(1024, 768) == 6
    assert default_stick_width(64, 64) == 1
    thin = pixels(render_control_map(STANDING, 512, 512, stick_width=1))
    thick = pixels(render_control_map(STANDING, 512, 512, stick_width=10))
    assert (thick.any(axis=2)).sum() > 2 * (thin.any(axis=2)).sum()
    with pytest.raises(ValueError, match="stick_width"):
        render_control_map(STANDING, 512, 512, stick_width=0)


def test_empty_pose_gives_a_black_map() -> None:
    assert not pixels(render_control_map([ABSENT] * 18, 64, 48)).any()
