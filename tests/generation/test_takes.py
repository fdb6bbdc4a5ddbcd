"""A variation's take at submission: plausible for every library pose, stored with its keypoints."""

from __future__ import annotations

import pytest

from posegen.generation.takes import take_pose
from posegen.imaging.variation import CANONICAL, Take, take_for
from posegen.kit.openpose import R_ELBOW, R_WRIST
from posegen.library.keypoint_checks import plausibility_problems, pose_distance
from posegen.library.poses import POSES
from tests.imaging.poses import STANDING

SEEDS = (1, 4242, 2_000_000_001)


def test_every_library_pose_stays_plausible_in_every_take() -> None:
    assert len(POSES) == 172
    for spec in POSES:
        points, depth = spec.keypoints.points, spec.keypoints.depth
        assert plausibility_problems(points) == [], spec.slug
        for seed in SEEDS:
            for number in range(2, 6):
                taken = take_pose(points, depth, number, seed)
                moved = [(p[0], p[1], p[2]) for p in taken.points]
                assert plausibility_problems(moved) == [], (spec.slug, number, seed)
                # No take had to be softened: the rules hold for the take as drawn.
                assert taken.take == take_for(number, seed), (spec.slug, number, seed)
                # Still the same pose: the shape changes like a camera a few steps to the side.
                assert pose_distance(moved, points) < 0.35, (spec.slug, number, seed)


def test_variation_one_keeps_the_library_keypoints() -> None:
    spec = POSES[0]
    taken = take_pose(spec.keypoints.points, spec.keypoints.depth, 1, 99)
    assert taken.take == CANONICAL
    assert taken.points == [list(point) for point in spec.keypoints.points]
    assert taken.depth == list(spec.keypoints.depth)


def test_a_take_that_would_break_a_rule_turns_less() -> None:
    # A wrist far in front of the body (an implausible depth): any turn swings it out sideways and
    # stretches the forearm beyond what the body allows.
    depth = [0.0] * len(STANDING)
    depth[R_WRIST] = 1.0
    assert plausibility_problems(STANDING) == []
    wanted = take_for(2, 8)
    taken = take_pose(STANDING, depth, 2, 8)
    moved = [(p[0], p[1], p[2]) for p in taken.points]
    assert plausibility_problems(moved) == []
    assert abs(taken.take.yaw) < abs(wanted.yaw)
    # Only the turn and the swings soften: the framing and the light stay the take's.
    assert taken.take.zoom == wanted.zoom and taken.take.shift == wanted.shift
    assert (taken.take.light, taken.take.warmth) == (wanted.light, wanted.warmth)
    assert moved[R_ELBOW] != (0.0, 0.0, 0.0)
    # A wrist so far out that even a small turn breaks the rule: the take keeps no turn, no swing.
    depth[R_WRIST] = 3.0
    flat = take_pose(STANDING, depth, 2, 8)
    assert (flat.take.yaw, flat.take.swing) == (0.0, 0.0)
    assert plausibility_problems([(p[0], p[1], p[2]) for p in flat.points]) == []


def test_the_stored_form_holds_the_take_keypoints_and_the_take() -> None:
    spec = POSES[5]
    taken = take_pose(spec.keypoints.points, spec.keypoints.depth, 3, 17)
    stored = taken.stored()
    assert stored["format"] == "openpose-18"
    assert stored["points"] == taken.points and stored["depth"] == taken.depth
    assert isinstance(stored["take"], dict)
    assert Take.from_json(stored["take"]) == taken.take == take_for(3, 17)


@pytest.mark.parametrize("number", [2, 3])
def test_the_same_variation_and_seed_give_the_same_take(number: int) -> None:
    taken = take_pose(STANDING, [0.0] * len(STANDING), number, 5)
    again = take_pose(STANDING, [0.0] * len(STANDING), number, 5)
    assert taken == again
