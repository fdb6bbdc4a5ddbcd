"""The body model, the plausibility check and the pose distance."""

from __future__ import annotations

import math

import pytest

from posegen.kit.openpose import (
    KEYPOINT_NAMES,
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_EYE,
    L_HIP,
    L_SHOULDER,
    L_WRIST,
    LIMBS,
    NECK,
    NOSE,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    Point,
)
from posegen.library.keypoint_checks import mirrored, plausibility_problems, pose_distance
from posegen.library.skeleton import ABSENT, BodyPose, Keypoints, limb_direction
from posegen.library.taxonomy import Framing

NEUTRAL = BodyPose().keypoints().points


def test_names_and_limbs_follow_openpose_coco_18() -> None:
    assert len(KEYPOINT_NAMES) == 18
    assert KEYPOINT_NAMES[:2] == ("nose", "neck")
    assert KEYPOINT_NAMES[R_WRIST] == "right_wrist" and KEYPOINT_NAMES[L_ANKLE] == "left_ankle"
    assert KEYPOINT_NAMES[14:] == ("right_eye", "left_eye", "right_ear", "left_ear")
    expected = "1-2 1-5 2-3 3-4 5-6 6-7 1-8 8-9 9-10 1-11 11-12 12-13 1-0 0-14 14-16 0-15 15-17"
    pairs = tuple(tuple(int(i) for i in pair.split("-")) for pair in expected.split())
    assert pairs == LIMBS


def test_limb_direction_angles() -> None:
    def close(a: tuple[float, float, float], b: tuple[float, float, float]) -> bool:
        return all(math.isclose(p, q, abs_tol=1e-9) for p, q in zip(a, b, strict=True))

    assert close(limb_direction((0, 0), -1), (0.0, 1.0, 0.0))  # straight down (y grows downward)
    assert close(limb_direction((90, 0), -1), (-1.0, 0.0, 0.0))  # the right arm out goes to image left
    assert close(limb_direction((90, 0), 1), (1.0, 0.0, 0.0))
    assert close(limb_direction((180, 0), 1), (0.0, -1.0, 0.0))  # straight up
    assert close(limb_direction((0, 90), 1), (0.0, 0.0, 1.0))  # toward the camera


def test_neutral_stance_is_symmetric_and_fills_the_frame() -> None:
    p = NEUTRAL
    assert all(point[2] == 1.0 for point in p)
    assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y, _ in p)
    neck_x = p[NECK][0]
    for right, left in ((R_SHOULDER, L_SHOULDER), (R_HIP, L_HIP), (R_WRIST, L_WRIST), (R_EAR, L_EAR)):
        assert p[right][1] == pytest.approx(p[left][1], abs=1e-4)
        assert neck_x - p[right][0] == pytest.approx(p[left][0] - neck_x, abs=1e-4)
        assert p[right][0] < neck_x < p[left][0]  # the figure faces the viewer: its right is image left
    assert p[R_WRIST][1] > p[R_ELBOW][1] > p[R_SHOULDER][1]
    assert p[L_WRIST][1] > p[L_ELBOW][1] > p[L_SHOULDER][1]
    assert p[NOSE][1] < p[NECK][1] < p[R_HIP][1] < p[R_KNEE][1] < p[R_ANKLE][1]
    ys = [y for _, y, _ in p]
    assert max(ys) - min(ys) == pytest.approx(0.8, abs=0.01)
    assert (max(ys) + min(ys)) / 2 == pytest.approx(0.5, abs=0.01)


def test_turning_hides_the_far_ear_first_and_the_far_eye_later() -> None:
    slight = BodyPose(turn=60).keypoints().points
    assert slight[L_EAR] == ABSENT and slight[R_EAR] != ABSENT
    assert slight[L_EYE] != ABSENT
    profile = BodyPose(turn=-90).keypoints().points
    assert profile[R_EAR] == ABSENT and profile[R_EYE] == ABSENT
    assert profile[L_EAR] != ABSENT and profile[NOSE] != ABSENT
    # Turning only the head does the same.
    assert BodyPose(head_turn=60).keypoints().points[L_EAR] == ABSENT
    # Shoulders seen side-on come together.
    assert abs(profile[R_SHOULDER][0] - profile[L_SHOULDER][0]) < 0.01


def test_depth_puts_the_near_side_in_front() -> None:
    keypoints = BodyPose(turn=60).keypoints()
    assert keypoints.depth[R_SHOULDER] > keypoints.depth[L_SHOULDER]
    reaching = BodyPose(r_arm=(0, 90), r_fore=(0, 90)).keypoints()
    assert reaching.depth[R_WRIST] > reaching.depth[R_ELBOW] > reaching.depth[R_SHOULDER]


def test_upper_body_and_portrait_framings_crop_the_figure() -> None:
    upper = BodyPose().keypoints(Framing.UPPER_BODY).points
    assert upper[R_ANKLE] == ABSENT and upper[L_ANKLE] == ABSENT
    assert upper[R_HIP] != ABSENT and upper[NOSE] != ABSENT
    assert upper[R_HIP][1] - upper[NECK][1] > NEUTRAL[R_HIP][1] - NEUTRAL[NECK][1]  # drawn larger
    portrait = BodyPose().keypoints(Framing.PORTRAIT).points
    assert portrait[R_ELBOW] == ABSENT and portrait[R_HIP] == ABSENT
    assert all(portrait[i] != ABSENT for i in (NOSE, NECK, R_SHOULDER, L_SHOULDER, R_EYE, L_EYE))
    shoulder_span = portrait[L_SHOULDER][0] - portrait[R_SHOULDER][0]
    assert 0.6 < shoulder_span < 0.95
    for points in (upper, portrait):
        assert all(point == ABSENT or (0 <= point[0] <= 1 and 0 <= point[1] <= 1) for point in points)


def test_keypoints_json_and_validation() -> None:
    keypoints = BodyPose(turn=60).keypoints()
    data = keypoints.as_json()
    assert data["format"] == "openpose-18"
    points = data["points"]
    assert isinstance(points, list) and len(points) == 18
    assert points[L_EAR] == [0.0, 0.0, 0.0]
    assert all(round(value, 4) == value for point in points for value in point)
    with pytest.raises(ValueError, match="18"):
        Keypoints(points=keypoints.points[:17], depth=keypoints.depth)


def test_the_model_is_deterministic() -> None:
    body = BodyPose(turn=33, lean=12, head_tilt=7, r_arm=(40, 20), l_thigh=(10, 30))
    assert body.keypoints() == body.keypoints()
    assert body.keypoints(Framing.PORTRAIT) == body.keypoints(Framing.PORTRAIT)


def test_with_limbs_applies_presets_and_rejects_typos() -> None:
    body = BodyPose(turn=10).with_limbs({"r_arm": (90, 0)}, {"r_arm": (100, 0), "l_shin": (0, -90)})
    assert (body.turn, body.r_arm, body.l_shin) == (10, (100, 0), (0, -90))
    with pytest.raises(ValueError, match="r_hand"):
        BodyPose().with_limbs({"r_hand": (0, 0)})


def _moved(points: tuple[Point, ...], index: int, dx: float, dy: float) -> list[Point]:
    moved = list(points)
    x, y, c = moved[index]
    moved[index] = (x + dx, y + dy, c)
    return moved


def test_plausibility_accepts_model_poses_and_foreshortening() -> None:
    assert plausibility_problems(NEUTRAL) == []
    toward_camera = BodyPose(r_arm=(0, 90), r_fore=(0, 90), l_thigh=(0, 88), l_shin=(0, 85)).keypoints()
    assert plausibility_problems(toward_camera.points) == []
    assert plausibility_problems(BodyPose(turn=90).keypoints().points) == []
    assert plausibility_problems(BodyPose(head_turn=70).keypoints(Framing.PORTRAIT).points) == []
    # Scale and position do not matter, as for keypoints imported from a detector.
    shrunk = [(0.2 + x * 0.3, 0.1 + y * 0.3, c) if c else ABSENT for x, y, c in NEUTRAL]
    assert plausibility_problems(shrunk) == []


def test_plausibility_flags_a_stretched_arm() -> None:
    forearm = math.dist(NEUTRAL[R_ELBOW][:2], NEUTRAL[R_WRIST][:2])
    problems = plausibility_problems(_moved(NEUTRAL, R_WRIST, 0.0, forearm * 0.8))
    assert len(problems) == 1 and "right_elbow–right_wrist" in problems[0]
    # A slightly long bone is within tolerance.
    assert plausibility_problems(_moved(NEUTRAL, R_WRIST, 0.0, forearm * 0.15)) == []


def test_plausibility_flags_broken_input() -> None:
    assert plausibility_problems(NEUTRAL[:17]) == ["expected 18 keypoints, got 17"]
    no_neck = list(NEUTRAL)
    no_neck[NECK] = ABSENT
    assert "the neck is missing" in plausibility_problems(no_neck)
    bad = list(NEUTRAL)
    bad[NOSE] = (math.nan, 0.5, 1.0)
    assert plausibility_problems(bad) == ["nose is not three finite numbers"]
    bad[NOSE] = (0.5, 0.5, 1.5)
    assert plausibility_problems(bad) == ["nose has a confidence outside 0–1"]
    assert plausibility_problems([(0.5, 0.5, 1.0)] * 18) == ["the keypoints have no extent"]


def test_pose_distance_is_a_translation_and_scale_invariant_metric() -> None:
    waving = BodyPose(r_arm=(100, 10), r_fore=(170, 10)).keypoints().points
    assert pose_distance(NEUTRAL, NEUTRAL) == 0.0
    assert pose_distance(NEUTRAL, waving) == pytest.approx(pose_distance(waving, NEUTRAL))
    assert pose_distance(NEUTRAL, waving) > 0.15
    moved = [(x * 0.5 + 0.3, y * 0.5 + 0.1, c) for x, y, c in waving]
    assert pose_distance(NEUTRAL, moved) == pytest.approx(pose_distance(NEUTRAL, waving), abs=1e-9)
    small_change = BodyPose(head_turn=20).keypoints().points
    assert 0 < pose_distance(NEUTRAL, small_change) < pose_distance(NEUTRAL, waving)
    assert pose_distance(NEUTRAL, [ABSENT] * 18) == math.inf


def test_mirroring_swaps_sides() -> None:
    waving = BodyPose(r_arm=(100, 10), r_fore=(170, 10)).keypoints().points
    flipped = mirrored(waving)
    assert flipped[L_WRIST][1] < flipped[L_SHOULDER][1]
    assert flipped[L_WRIST][0] == pytest.approx(1 - waving[R_WRIST][0])
    twice = [value for point in mirrored(flipped) for value in point]
    assert twice == pytest.approx([value for point in waving for value in point])
    assert pose_distance(flipped, BodyPose(l_arm=(100, 10), l_fore=(170, 10)).keypoints().points) < 1e-3
