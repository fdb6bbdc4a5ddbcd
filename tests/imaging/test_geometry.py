"""Keypoint transforms, framing and the body model."""

from __future__ import annotations

import pytest

from posegen.imaging.body import body_extent, body_parts, body_unit
from posegen.imaging.geometry import Transform, figure_box, fit_transform, stretch_transform
from posegen.kit.openpose import LIMBS, Point
from tests.imaging.poses import ABSENT, STANDING, pose

# Arms reaching sideways and up, off-centre: a wide figure that is not centred in its own square.
REACHING = pose(
    k0=(0.3, 0.3), k1=(0.3, 0.4), k2=(0.22, 0.41), k3=(0.1, 0.35), k4=(0.02, 0.25),
    k5=(0.38, 0.41), k6=(0.5, 0.35), k7=(0.6, 0.28), k8=(0.26, 0.65), k9=(0.25, 0.8),
    k10=(0.25, 0.95), k11=(0.34, 0.65), k12=(0.35, 0.8), k13=(0.35, 0.95),
)  # fmt: skip
UPPER_BODY = pose(
    k0=(0.5, 0.3), k1=(0.5, 0.5), k2=(0.3, 0.52), k3=(0.25, 0.8), k5=(0.7, 0.52), k6=(0.75, 0.8)
)
SIZES = [(512, 512), (768, 512), (512, 768), (300, 1000)]


def test_stretch_maps_the_centre_to_the_canvas_centre() -> None:
    t = stretch_transform(768, 512)
    assert t.apply_xy(0.5, 0.5) == (384.0, 256.0)
    assert t.apply_xy(0.0, 0.0) == (0.0, 0.0)
    assert t.apply_xy(1.0, 1.0) == (768.0, 512.0)


def test_apply_keeps_absent_points_absent() -> None:
    points = list(STANDING)
    points[9] = (0.45, 0.69, 0.0)  # coordinates left behind but not detected
    points[10] = ABSENT
    mapped = Transform(100.0, 100.0, 7.0, 9.0).apply(points)
    assert mapped[9] == ABSENT
    assert mapped[10] == ABSENT
    assert mapped[0] == pytest.approx((57.0, 25.0, 1.0))
    assert len(mapped) == 18


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("points", [STANDING, REACHING, UPPER_BODY], ids=["standing", "reaching", "upper"])
def test_fit_is_uniform_inside_the_margin_and_centred(points: list[Point], size: tuple[int, int]) -> None:
    width, height = size
    margin = 0.08
    t = fit_transform(points, width, height, margin)
    assert t.scale_x == t.scale_y > 0

    extent = body_extent(points)
    assert extent is not None
    left, top = t.apply_xy(extent[0], extent[1])
    right, bottom = t.apply_xy(extent[2], extent[3])
    pad = margin * min(width, height)
    gaps = (left, top, width - right, height - bottom)
    assert all(g >= pad - 1e-6 for g in gaps)
    assert left == pytest.approx(width - right)
    assert top == pytest.approx(height - bottom)
    # The figure fills the canvas along its limiting dimension: the margin is exactly met there.
    assert min(left, top) == pytest.approx(pad)
    # Every keypoint lies inside the drawn body, hence inside the canvas too.
    for x, y, c in t.apply(points):
        if c > 0:
            assert pad <= x <= width - pad
            assert pad <= y <= height - pad


def test_fit_pads_for_the_head_top_hands_and_feet() -> None:
    extent = body_extent(STANDING)
    assert extent is not None
    unit = body_unit(STANDING)
    nose_y, ankle_y = STANDING[0][1], STANDING[10][1]
    wrist_x = STANDING[4][0]
    assert extent[1] < nose_y - 0.4 * unit  # the skull rises above the nose
    assert extent[3] > ankle_y + 0.4 * unit  # feet below the ankles
    assert extent[0] < wrist_x - 0.15 * unit  # the hand's thickness beside the wrist
    # Hands reach past the wrists along the forearm.
    assert extent[3] > STANDING[4][1]


def test_fit_without_keypoints_fits_the_unit_square() -> None:
    t = fit_transform([ABSENT] * 18, 800, 400, margin=0.1)
    assert t.scale_x == t.scale_y == pytest.approx(320.0)
    assert t.apply_xy(0.5, 0.5) == pytest.approx((400.0, 200.0))


def test_fit_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="margin"):
        fit_transform(STANDING, 512, 512, margin=0.5)
    with pytest.raises(ValueError, match="18 keypoints"):
        fit_transform(STANDING[:17], 512, 512)
    with pytest.raises(ValueError, match="positive"):
        fit_transform(STANDING, 0, 512)


def test_figure_box_bounds_the_present_points() -> None:
    t = stretch_transform(1000, 1000)
    assert figure_box(STANDING, t) == (370, 145, 631, 861)
    padded = figure_box(STANDING, t, padded=True)
    assert padded[0] < 370 and padded[1] < 145 and padded[2] > 631 and padded[3] > 861


def test_figure_box_ignores_absent_points_and_needs_one() -> None:
    points = [ABSENT] * 18
    points[1] = (0.25, 0.5, 1.0)
    points[4] = (0.9, 0.9, 0.0)
    assert figure_box(points, stretch_transform(100, 100)) == (25, 50, 26, 51)
    with pytest.raises(ValueError, match="present"):
        figure_box([ABSENT] * 18, stretch_transform(100, 100))


def test_body_model_uses_only_present_points() -> None:
    legless = list(STANDING)
    for i in (9, 10, 12, 13):
        legless[i] = ABSENT
    names = {part.name for part in body_parts(legless)}
    assert not names & {"shin_r", "shin_l", "foot_r", "foot_l", "knee_r", "knee_l", "thigh_r", "thigh_l"}
    assert {"chest", "pelvis", "head", "forearm_r", "hand_l"} <= names
    assert body_parts([ABSENT] * 18) == []


def test_body_model_moves_with_the_points() -> None:
    # Scale and shift the skeleton: every circle of the body model must scale and shift with it.
    t = Transform(3.0, 3.0, 0.25, -0.5)
    moved = t.apply(REACHING)
    original, transformed = body_parts(REACHING), body_parts(moved)
    assert [p.name for p in original] == [p.name for p in transformed]
    for a, b in zip(original, transformed, strict=True):
        for ca, cb in zip(a.circles, b.circles, strict=True):
            assert (cb.x, cb.y) == pytest.approx(t.apply_xy(ca.x, ca.y))
            assert cb.r == pytest.approx(ca.r * 3.0)


def test_body_unit_is_about_a_head_height() -> None:
    unit = body_unit(STANDING)
    figure_height = STANDING[10][1] - STANDING[0][1]  # nose to ankle
    assert 5.5 < figure_height / unit < 7.5
    assert body_unit([ABSENT] * 18) > 0


def test_limbs_are_the_openpose_pairs() -> None:
    assert len(LIMBS) == 17
    assert LIMBS[0] == (1, 2) and LIMBS[12] == (1, 0) and LIMBS[-1] == (15, 17)
    assert all(0 <= a < 18 and 0 <= b < 18 and a != b for a, b in LIMBS)
