"""pose_score on hand-made keypoints: alignment, tolerances, side names, aspect, the shared-joint floor."""

from __future__ import annotations

import math

import pytest

from posegen.kit.openpose import L_WRIST, NOSE, R_ELBOW, R_WRIST, Point
from posegen.library.keypoint_checks import mirrored
from posegen.vision import MIN_SHARED_JOINTS, pose_score
from posegen.vision.score import swap_sides
from tests.imaging.poses import ABSENT, STANDING


def moved(points: list[Point], scale: float, dx: float, dy: float) -> list[Point]:
    return [(x * scale + dx, y * scale + dy, c) if c > 0 else ABSENT for x, y, c in points]


def test_the_same_pose_scores_one() -> None:
    assert pose_score(STANDING, STANDING) == pytest.approx(1.0)


def test_position_and_size_do_not_count() -> None:
    assert pose_score(STANDING, moved(STANDING, 0.4, 0.3, -0.1)) == pytest.approx(1.0)


def test_a_raised_arm_costs_score_in_proportion_to_the_change() -> None:
    slightly = list(STANDING)
    slightly[R_WRIST] = (STANDING[R_WRIST][0] - 0.01, STANDING[R_WRIST][1] - 0.01, 1.0)
    raised = list(STANDING)
    raised[R_ELBOW] = (0.36, 0.17, 1.0)
    raised[R_WRIST] = (0.34, 0.05, 1.0)
    small, large = pose_score(STANDING, slightly), pose_score(STANDING, raised)
    assert small is not None and large is not None
    assert 0.95 < small < 1.0
    assert large < small - 0.05


def test_a_mirrored_asymmetric_pose_scores_low() -> None:
    waving = list(STANDING)
    waving[R_ELBOW] = (0.3, 0.2, 1.0)
    waving[R_WRIST] = (0.33, 0.06, 1.0)
    waving[L_WRIST] = (0.7, 0.45, 1.0)
    same, mirror = pose_score(waving, waving), pose_score(waving, list(mirrored(waving)))
    assert same == pytest.approx(1.0)
    assert mirror is not None and mirror < 0.8


def test_sides_named_the_other_way_round_score_as_the_same_pose() -> None:
    # A detector that takes the back for the front swaps every name but places every joint right.
    assert pose_score(STANDING, list(swap_sides(STANDING))) == pytest.approx(1.0)


def test_aspect_puts_both_axes_in_the_same_units() -> None:
    # The same figure normalised to a 2:1 image: x values halve. With the aspect it is the same pose.
    wide = [(x / 2, y, c) for x, y, c in STANDING]
    reference = [(x / 2, y, c) for x, y, c in STANDING]
    assert pose_score(reference, wide, aspect=2.0) == pytest.approx(1.0)
    squeezed = pose_score(STANDING, wide, aspect=1.0)
    assert squeezed is not None and squeezed < 0.9


def test_too_few_shared_joints_give_no_score() -> None:
    few = [p if i < MIN_SHARED_JOINTS - 1 else ABSENT for i, p in enumerate(STANDING)]
    enough = [p if i < MIN_SHARED_JOINTS else ABSENT for i, p in enumerate(STANDING)]
    assert pose_score(STANDING, few) is None
    assert pose_score(STANDING, enough) == pytest.approx(1.0)


def test_joints_below_the_confidence_threshold_are_left_out() -> None:
    # A wild nose with a confidence under the threshold changes nothing.
    unsure = list(STANDING)
    unsure[NOSE] = (0.9, 0.9, 0.2)
    assert pose_score(STANDING, unsure) == pytest.approx(1.0)
    sure = list(STANDING)
    sure[NOSE] = (0.9, 0.9, 0.9)
    score = pose_score(STANDING, sure)
    assert score is not None and score < 0.95


def test_all_joints_on_one_spot_give_no_score() -> None:
    collapsed = [(0.5, 0.5, 1.0)] * 18
    assert pose_score(STANDING, collapsed) is None


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="18"):
        pose_score(STANDING[:17], STANDING)
    with pytest.raises(ValueError, match="aspect"):
        pose_score(STANDING, STANDING, aspect=math.nan)
