"""Takes: variation 1 changes nothing; the others turn, swing, frame and light the same pose."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from posegen.imaging.backgrounds import SolidBackground
from posegen.imaging.mannequin import render_mannequin
from posegen.imaging.variation import (
    CANONICAL,
    CANONICAL_MARGIN,
    YAW_RANGE,
    Take,
    relight,
    take_for,
    take_framing,
    take_keypoints,
)
from posegen.kit.openpose import LIMBS, NECK, R_WRIST
from posegen.library.poses import POSES, PoseSpec
from tests.imaging.poses import STANDING

SPEC = next(spec for spec in POSES if spec.slug == "arms-crossed")
POINTS, DEPTH = list(SPEC.keypoints.points), list(SPEC.keypoints.depth)


def test_variation_one_is_the_canonical_take_and_changes_nothing() -> None:
    assert take_for(1, 12345) == CANONICAL and CANONICAL.canonical
    assert take_keypoints(POINTS, DEPTH, CANONICAL) == (POINTS, DEPTH)
    assert take_framing(1024, 768, CANONICAL).canvas == (1024, 768)
    assert take_framing(1024, 768, CANONICAL).origin == (0, 0)
    assert take_framing(1024, 768, CANONICAL).margin == CANONICAL_MARGIN
    image = Image.new("RGB", (8, 8), (10, 20, 30))
    assert relight(image, Image.new("L", (8, 8), 255), CANONICAL, backdrop=True) is image


def test_takes_are_reproducible_and_each_variation_is_another_take() -> None:
    takes = [take_for(number, 777) for number in range(2, 7)]
    assert takes == [take_for(number, 777) for number in range(2, 7)]
    assert len(set(takes)) == len(takes)
    assert not any(take.canonical for take in takes)
    assert take_for(2, 777) != take_for(2, 778)
    # Consecutive variations turn to opposite sides and alternate cool and warm light.
    for first, second in itertools.pairwise(takes):
        assert first.yaw * second.yaw < 0 and first.warmth * second.warmth < 0
    assert all(YAW_RANGE[0] <= abs(take.yaw) <= YAW_RANGE[1] for take in takes)
    with pytest.raises(ValueError, match="start at 1"):
        take_for(0, 1)


def test_a_take_survives_its_stored_form() -> None:
    take = take_for(3, 99)
    assert Take.from_json(take.as_json()) == take
    assert Take.from_json(None) == CANONICAL


def test_the_yaw_turns_the_figure_using_its_depth() -> None:
    still = replace(take_for(2, 5), swing=0.0, zoom=1.0, shift=(0.0, 0.0))
    depth = [0.0] * len(STANDING)
    depth[R_WRIST] = 0.2  # the right hand reaches towards the camera
    turned, turned_depth = take_keypoints(STANDING, depth, still)
    flat, _ = take_keypoints(STANDING, [0.0] * len(STANDING), still)
    # Only the wrist's depth differs, so only the wrist moves against the rest: sideways by
    # depth · sin(yaw), not up or down (the framing may move the whole figure).
    expected = 0.2 * math.sin(math.radians(still.yaw))
    offset = turned[R_WRIST][0] - turned[NECK][0] - (flat[R_WRIST][0] - flat[NECK][0])
    assert offset == pytest.approx(expected, abs=1e-4)
    assert turned[R_WRIST][1] - turned[NECK][1] == pytest.approx(flat[R_WRIST][1] - flat[NECK][1], abs=1e-4)
    assert turned_depth[R_WRIST] > turned_depth[NECK]  # still nearer the camera


def test_swings_keep_every_bone_length() -> None:
    swung = replace(CANONICAL, number=2, swing=7.0, swing_seed=42)
    moved, _ = take_keypoints(POINTS, DEPTH, swung)
    assert moved != POINTS
    for a, b in LIMBS:
        if POINTS[a][2] > 0 and POINTS[b][2] > 0:
            before = math.dist(POINTS[a][:2], POINTS[b][:2])
            assert math.dist(moved[a][:2], moved[b][:2]) == pytest.approx(before, abs=1e-4)


@pytest.mark.parametrize("spec", POSES[::7], ids=lambda spec: spec.slug)
def test_taken_keypoints_stay_in_the_square_and_absent_points_stay_absent(spec: PoseSpec) -> None:
    points, depth = list(spec.keypoints.points), list(spec.keypoints.depth)
    for number in range(2, 6):
        moved, moved_depth = take_keypoints(points, depth, take_for(number, 31))
        assert len(moved) == len(moved_depth) == len(points)
        for (x, y, c), original in zip(moved, points, strict=True):
            assert c == original[2]
            if c > 0:
                assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
            else:
                assert (x, y) == (0.0, 0.0)


@pytest.mark.parametrize("number", range(2, 8))
def test_the_framing_slides_and_zooms_without_cutting_the_figure(number: int) -> None:
    take = take_for(number, 2024)
    framing = take_framing(256, 256, take)
    rendered = render_mannequin(POINTS, DEPTH, *framing.canvas, margin=framing.margin)
    left, top = framing.origin
    mask = np.asarray(rendered.mask.crop((left, top, left + 256, top + 256)))
    assert mask.sum() == np.asarray(rendered.mask).sum()  # nothing of the figure left the window
    assert not mask[0].any() and not mask[-1].any() and not mask[:, 0].any() and not mask[:, -1].any()
    if take.zoom < 1:
        assert framing.margin > CANONICAL_MARGIN


def test_relight_changes_the_figure_and_keeps_a_chosen_background() -> None:
    rendered = render_mannequin(POINTS, DEPTH, 200, 200, background=SolidBackground((40, 160, 90)))
    take = take_for(2, 7)
    lit = np.asarray(relight(rendered.image, rendered.mask, take)).astype(int)
    before = np.asarray(rendered.image).astype(int)
    mask = np.asarray(rendered.mask)
    assert (lit[mask == 0] == before[mask == 0]).all()
    changed = np.abs(lit - before).max(axis=2) > 8
    assert changed[mask == 255].mean() > 0.5
    backdrop = np.asarray(relight(rendered.image, rendered.mask, take, backdrop=True)).astype(int)
    assert (np.abs(backdrop - before).max(axis=2)[mask == 0] > 0).mean() > 0.5
