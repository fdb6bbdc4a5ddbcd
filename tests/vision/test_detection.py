"""The pose check on real mannequin renders: BlazePose finds the figure, and the score tells poses apart.

Every image here comes from posegen's own mannequin renderer at 512 px; the detector is the real one,
with the weights that ship in the mediapipe wheel.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import cache

import numpy as np
import pytest
from PIL import Image

from posegen.imaging.mannequin import render_mannequin
from posegen.kit.openpose import KEYPOINT_COUNT, L_SHOULDER, NECK, R_SHOULDER, Point
from posegen.library.poses import POSES, PoseSpec
from posegen.vision import Detection, detect, detector_available, pose_score

SIZE = 512
BY_SLUG = {spec.slug: spec for spec in POSES}
STANDING = BY_SLUG["100-confident-power-stance"]  # upright, arms down, feet apart
DIFFERENT = (BY_SLUG["warrior-ii"], BY_SLUG["tree-pose"], BY_SLUG["forward-lunge"])
MARGIN = 0.4


@cache
def rendered(slug: str, width: int = SIZE, height: int = SIZE) -> Image.Image:
    spec = BY_SLUG[slug]
    return render_mannequin(spec.keypoints.points, spec.keypoints.depth, width, height).image


@cache
def detected(slug: str) -> Detection:
    detection = detect(rendered(slug))
    assert detection is not None, slug
    return detection


def score(requested: PoseSpec, image_of: PoseSpec) -> float:
    value = pose_score(requested.keypoints.points, detected(image_of.slug).points)
    assert value is not None
    return value


def test_the_detector_ships_with_the_extra() -> None:
    assert detector_available()


def test_a_standing_pose_is_found_as_openpose_keypoints() -> None:
    detection = detected(STANDING.slug)
    assert len(detection.points) == KEYPOINT_COUNT
    assert (detection.width, detection.height) == (SIZE, SIZE)
    assert 0.5 < detection.confidence <= 1.0
    # The neck is the shoulders' midpoint. Which shoulder is which the detector cannot tell on a
    # faceless mannequin (front and back look alike), so only their order around the neck is checked.
    right, left, neck = (detection.points[i] for i in (R_SHOULDER, L_SHOULDER, NECK))
    assert neck[:2] == pytest.approx(((right[0] + left[0]) / 2, (right[1] + left[1]) / 2))
    assert min(right[0], left[0]) < neck[0] < max(right[0], left[0])
    assert abs(left[0] - right[0]) > 0.05
    assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y, c in detection.points if c > 0.5)


def test_a_clear_standing_pose_scores_high_against_its_own_keypoints() -> None:
    assert score(STANDING, STANDING) >= 0.8


@pytest.mark.parametrize("other", DIFFERENT, ids=lambda spec: spec.slug)
def test_a_clearly_different_pose_scores_clearly_lower(other: PoseSpec) -> None:
    own = score(STANDING, STANDING)
    # The standing render against the other pose's keypoints, and the other render against standing.
    assert score(other, STANDING) <= own - MARGIN
    assert score(STANDING, other) <= score(other, other) - MARGIN


def test_a_non_square_render_scores_high_with_its_aspect() -> None:
    width, height = 768, 512
    spec = STANDING
    render = render_mannequin(spec.keypoints.points, spec.keypoints.depth, width, height)
    detection = detect(render.image)
    assert detection is not None
    assert detection.aspect == pytest.approx(1.5)
    # The requested keypoints where the renderer put them, normalised to the image like the detection.
    pixels = render.transform.apply(spec.keypoints.points)
    expected: list[Point] = [(x / width, y / height, c) for x, y, c in pixels]
    value = pose_score(expected, detection.points, aspect=detection.aspect)
    assert value is not None and value >= 0.8


def test_an_image_without_a_person_has_no_detection() -> None:
    solid = Image.new("RGB", (SIZE, SIZE), (236, 236, 240))
    noise = Image.fromarray(np.random.default_rng(7).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8))
    assert detect(solid) is None
    assert detect(noise) is None


def test_the_same_image_gives_the_same_detection_and_score() -> None:
    image = rendered(STANDING.slug)
    first, second = detect(image), detect(image.copy())
    assert first is not None and first == second
    requested = STANDING.keypoints.points
    assert pose_score(requested, first.points) == pose_score(requested, second.points)


def test_detections_from_several_threads_agree() -> None:
    # The pipeline calls detect() from worker threads; the one graph is shared behind a lock.
    image = rendered(STANDING.slug)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(detect, [image] * 4))
    assert results == [detected(STANDING.slug)] * 4
