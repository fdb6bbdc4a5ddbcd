"""The curated pose library: enough distinct, plausible poses that look like what they are called."""

from __future__ import annotations

import importlib
import itertools
import math
import re
from collections import Counter

import pytest

from posegen.kit.openpose import (
    L_ANKLE,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    NECK,
    NOSE,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    Point,
)
from posegen.library import poses as library
from posegen.library.keypoint_checks import mirrored, plausibility_problems, pose_distance
from posegen.library.poses import POSES, PoseSpec
from posegen.library.skeleton import ABSENT
from posegen.library.taxonomy import SUBCATEGORY_SLUGS, Framing, GenderSuitability

BY_NAME = {spec.name: spec for spec in POSES}
# Two poses closer than this look like the same pose. For scale (see `pose_distance`): a head
# turned 30° or every limb moved by a couple of degrees stays around 0.015–0.025, while swinging
# a single forearm by 45° already gives 0.04. So 0.03 rejects re-posed copies and mirror images
# but still lets two poses differ only in what one arm does, which is a genuinely different photo.
DISTINCT_THRESHOLD = 0.03


def named(name: str, category: str) -> tuple[Point, ...]:
    spec = BY_NAME[name]
    assert spec.category == category
    return spec.keypoints.points


def torso_length(p: tuple[Point, ...]) -> float:
    hips = ((p[R_HIP][0] + p[L_HIP][0]) / 2, (p[R_HIP][1] + p[L_HIP][1]) / 2)
    return math.dist(p[NECK][:2], hips)


def knee_angle(p: tuple[Point, ...], hip: int, knee: int, ankle: int) -> float:
    ax, ay = p[hip][0] - p[knee][0], p[hip][1] - p[knee][1]
    bx, by = p[ankle][0] - p[knee][0], p[ankle][1] - p[knee][1]
    return math.degrees(math.acos((ax * bx + ay * by) / (math.hypot(ax, ay) * math.hypot(bx, by))))


def test_there_are_enough_poses_in_every_subcategory() -> None:
    assert len(POSES) >= 150
    counts = Counter(spec.category for spec in POSES)
    assert set(counts) == set(SUBCATEGORY_SLUGS)
    assert min(counts.values()) >= 5, counts


@pytest.mark.parametrize("spec", POSES, ids=lambda spec: spec.slug)
def test_every_pose_has_well_formed_keypoints(spec: PoseSpec) -> None:
    points, depth = spec.keypoints.points, spec.keypoints.depth
    assert len(points) == 18 and len(depth) == 18
    for point in points:
        x, y, c = point
        assert c in (0.0, 1.0)
        assert 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
        if c == 0.0:
            assert point == ABSENT
    assert points[NECK][2] == 1.0 and points[NOSE][2] == 1.0
    if spec.framing is Framing.FULL_BODY:
        assert points[R_ANKLE][2] == 1.0 and points[L_ANKLE][2] == 1.0
    assert plausibility_problems(points) == []


@pytest.mark.parametrize("spec", POSES, ids=lambda spec: spec.slug)
def test_every_pose_has_good_catalogue_text(spec: PoseSpec) -> None:
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", spec.slug)
    assert spec.name[0].isupper() or spec.name[0].isdigit()
    assert spec.name == spec.name.strip() and "  " not in spec.name
    assert 40 <= len(spec.description) <= 300 and spec.description.endswith(".")
    assert 3 <= len(spec.tags) <= 8 and len(set(spec.tags)) == len(spec.tags)
    assert all(tag and tag == tag.lower().strip() for tag in spec.tags)


def test_slugs_and_names_are_unique() -> None:
    assert len({spec.slug for spec in POSES}) == len(POSES)
    assert len({(spec.category, spec.name) for spec in POSES}) == len(POSES)
    assert len({spec.name.casefold() for spec in POSES}) == len(POSES)


def test_no_two_poses_are_near_duplicates() -> None:
    """Poses of one framing are compared as they are and mirrored, so a flipped copy counts too.

    Poses of different framings are different shots by construction (a headshot shares only the
    head and shoulders with a full-body pose), so they are not compared.
    """
    too_close = []
    for a, b in itertools.combinations(POSES, 2):
        if a.framing is not b.framing:
            continue
        pa, pb = a.keypoints.points, b.keypoints.points
        distance = min(pose_distance(pa, pb), pose_distance(pa, mirrored(pb)))
        if distance < DISTINCT_THRESHOLD:
            too_close.append(f"{a.name} ~ {b.name}: {distance:.3f}")
    assert too_close == []


def test_featured_and_premium_shares_and_mixes() -> None:
    featured = [spec for spec in POSES if spec.featured]
    premium = [spec for spec in POSES if spec.premium]
    assert 0.05 <= len(featured) / len(POSES) <= 0.20
    assert 0.05 <= len(premium) / len(POSES) <= 0.20
    assert not {spec.slug for spec in featured} & {spec.slug for spec in premium}
    assert len({spec.difficulty for spec in POSES}) == 3
    genders = Counter(spec.gender for spec in POSES)
    assert genders[GenderSuitability.UNISEX] > len(POSES) / 2
    assert genders[GenderSuitability.MALE] > 0 and genders[GenderSuitability.FEMALE] > 0
    assert all(spec.gender is GenderSuitability.FEMALE for spec in POSES if spec.category.endswith("-hijab"))
    framings = Counter(spec.framing for spec in POSES)
    assert framings[Framing.FULL_BODY] > len(POSES) / 2
    headshots = [spec for spec in POSES if spec.category == "corporate-headshots"]
    assert all(spec.framing is not Framing.FULL_BODY for spec in headshots)


def test_building_the_library_twice_gives_the_same_poses() -> None:
    modules = (
        library.professional,
        library.ecommerce,
        library.fashion,
        library.hijab,
        library.casual,
        library.sports,
    )
    assert sum(len(module.POSES) for module in modules) == len(POSES)
    for module in modules:
        before = module.POSES
        rebuilt = importlib.reload(module).POSES
        assert rebuilt == before


def test_named_poses_are_there() -> None:
    assert BY_NAME["100% Confident Power Stance"].category == "business-portraits"
    assert BY_NAME["Tree Pose"].category == "yoga-wellness"
    assert BY_NAME["Warrior II"].category == "yoga-wellness"
    assert BY_NAME["Sprint Start"].category == "running-cardio"
    assert BY_NAME["Running Stride"].category == "running-cardio"
    assert BY_NAME["Squat"].category == "fitness-gym"
    assert BY_NAME["Catwalk Stride"].category == "runway-catwalk"
    assert BY_NAME["Pointing at Product"].category == "live-selling"


def test_arms_crossed_crosses_the_forearms_in_front_of_the_chest() -> None:
    p = named("Arms Crossed", "business-portraits")
    # Each wrist lies past the body midline, on the opposite arm's side.
    assert p[R_WRIST][0] > p[NECK][0] > p[L_WRIST][0]
    for wrist in (R_WRIST, L_WRIST):
        assert max(p[R_SHOULDER][1], p[L_SHOULDER][1]) < p[wrist][1] < min(p[R_HIP][1], p[L_HIP][1])


def test_sitting_on_chair_has_level_thighs_and_vertical_shins() -> None:
    p = named("Sitting on Chair", "sitting-relaxed")
    torso = torso_length(p)
    for hip, knee, ankle in ((R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE)):
        assert abs(p[knee][1] - p[hip][1]) < 0.2 * torso
        assert p[ankle][1] - p[knee][1] > 0.6 * torso
        assert abs(p[ankle][0] - p[knee][0]) < 0.1 * torso


def test_walking_forward_takes_a_stride() -> None:
    p = named("Walking Forward", "everyday-casual")
    assert math.dist(p[R_ANKLE][:2], p[L_ANKLE][:2]) > 0.3 * torso_length(p)
    assert min(knee_angle(p, R_HIP, R_KNEE, R_ANKLE), knee_angle(p, L_HIP, L_KNEE, L_ANKLE)) < 160
    # The arms swing opposite the legs: the arm on the side of the leading leg swings back.
    facing = 1 if p[NOSE][0] > p[NECK][0] else -1
    right_leads = facing * p[R_ANKLE][0] > facing * p[L_ANKLE][0]
    lead, trail = ((R_WRIST, R_SHOULDER), (L_WRIST, L_SHOULDER))[:: 1 if right_leads else -1]
    assert facing * (p[lead[0]][0] - p[lead[1]][0]) < facing * (p[trail[0]][0] - p[trail[1]][0])


def test_hands_on_hips_puts_the_wrists_at_the_hips_and_the_elbows_out() -> None:
    p = named("Hands on Hips", "everyday-casual")
    torso = torso_length(p)
    assert math.dist(p[R_WRIST][:2], p[R_HIP][:2]) < 0.35 * torso
    assert math.dist(p[L_WRIST][:2], p[L_HIP][:2]) < 0.35 * torso
    assert p[R_ELBOW][0] < p[R_SHOULDER][0] and p[L_ELBOW][0] > p[L_SHOULDER][0]
    power = named("100% Confident Power Stance", "business-portraits")
    assert power[R_ELBOW][0] < power[R_SHOULDER][0] and power[L_ELBOW][0] > power[L_SHOULDER][0]


def test_waving_hello_raises_a_hand_above_the_shoulder() -> None:
    p = named("Waving Hello", "everyday-casual")
    assert p[R_WRIST][1] < p[R_SHOULDER][1] or p[L_WRIST][1] < p[L_SHOULDER][1]


def test_yoga_and_gym_poses_have_their_shapes() -> None:
    tree = named("Tree Pose", "yoga-wellness")
    # One foot is lifted to the standing leg's knee; the hands are above the head.
    assert abs(tree[R_ANKLE][1] - tree[L_ANKLE][1]) > 0.5 * torso_length(tree)
    assert max(tree[R_WRIST][1], tree[L_WRIST][1]) < tree[NOSE][1]
    warrior = named("Warrior II", "yoga-wellness")
    for wrist, shoulder in ((R_WRIST, R_SHOULDER), (L_WRIST, L_SHOULDER)):
        assert abs(warrior[wrist][1] - warrior[shoulder][1]) < 0.1 * torso_length(warrior)
    assert min(knee_angle(warrior, R_HIP, R_KNEE, R_ANKLE), knee_angle(warrior, L_HIP, L_KNEE, L_ANKLE)) < 120
    squat = named("Squat", "fitness-gym")
    assert max(knee_angle(squat, R_HIP, R_KNEE, R_ANKLE), knee_angle(squat, L_HIP, L_KNEE, L_ANKLE)) < 130
