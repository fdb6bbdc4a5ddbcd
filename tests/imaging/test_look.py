"""The mannequin follows the avatar: proportions, head (hair, hijab), skin and clothing colours, and the
drawing fixes of the library's named poses (back views, headshots, Tree Pose)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from posegen.imaging.body import body_parts, body_unit
from posegen.imaging.look import Look, covering_for_category, figure_for, look_for
from posegen.imaging.mannequin import MannequinRender, render_mannequin
from posegen.kit.openpose import L_HIP, L_KNEE, NECK, R_ANKLE, R_HIP, R_KNEE, Point
from posegen.library.poses import POSES
from posegen.library.skeleton import BodyPose
from posegen.library.taxonomy import Framing

HEAVY = {"gender": "male", "body_type": "muscular, heavy", "age_range": "60-70", "hair_style": "bald"}
SLIM = {"gender": "female", "body_type": "slim"}
BY_NAME = {spec.name: spec for spec in POSES}
SIZE = 384


def render(name: str, avatar: dict[str, str] | None = None, look: Look | None = None) -> MannequinRender:
    keypoints = BY_NAME[name].keypoints
    chosen = look if look is not None else look_for(avatar or {})
    return render_mannequin(keypoints.points, keypoints.depth, SIZE, SIZE, look=chosen)


def mask(render: MannequinRender) -> NDArray[np.bool_]:
    return np.asarray(render.mask) > 127


def pixels(render: MannequinRender) -> NDArray[np.int32]:
    return np.asarray(render.image, dtype=np.int32)


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("name", ["Warrior II", "Tree Pose", "Back View Over the Shoulder", "Child's Pose"])
def test_a_heavy_man_and_a_slim_woman_have_different_silhouettes(name: str) -> None:
    heavy, slim = render(name, HEAVY), render(name, SLIM)
    assert iou(mask(heavy), mask(slim)) < 0.75
    # The keypoints (the pose) are the same for both: only the drawing around them differs.
    assert heavy.transform.apply(BY_NAME[name].keypoints.points)[NECK][2] == 1.0


def test_proportions_follow_gender_and_body_type() -> None:
    man, woman = figure_for("male", None, None), figure_for("female", None, None)
    assert man.shoulders > woman.shoulders and woman.hips > man.hips
    heavy, slim = figure_for(None, "heavy", None), figure_for(None, "slim", None)
    assert heavy.limbs > 1.0 > slim.limbs and heavy.waist > 1.0 > slim.waist
    older, younger = figure_for(None, None, "60-70"), figure_for(None, None, "25-35")
    assert older.stoop > 0 == younger.stoop and older.waist > younger.waist


def head_box(render: MannequinRender, name: str) -> tuple[slice, slice]:
    points = render.transform.apply(BY_NAME[name].keypoints.points)
    nose = points[0] if points[0][2] > 0 else points[NECK]
    neck = points[NECK]
    unit = math.dist(nose[:2], neck[:2])
    x, y = nose[0], nose[1]
    return slice(round(y - 1.3 * unit), round(y + 0.8 * unit)), slice(round(x - unit), round(x + unit))


@pytest.mark.parametrize("name", ["Classic Headshot", "Tree Pose"])
def test_a_hijab_changes_the_head_of_a_bald_avatar(name: str) -> None:
    bald = render(name, {"hair_style": "bald"})
    hijab = render(name, {"hair_style": "bald", "head_covering": "hijab"})
    rows, cols = head_box(bald, name)
    a, b = pixels(bald)[rows, cols], pixels(hijab)[rows, cols]
    changed = np.abs(a - b).sum(axis=2) > 30
    assert changed.mean() > 0.2
    # Covered, the head's silhouette grows (the wrap and the drape around it).
    assert mask(hijab)[rows, cols].sum() > mask(bald)[rows, cols].sum()


def test_the_hijab_categories_default_to_a_hijab_unless_the_avatar_says_otherwise() -> None:
    assert covering_for_category("casual-hijab") == covering_for_category("hijab") == "hijab"
    assert covering_for_category("yoga") == covering_for_category(None) == "none"
    assert look_for({}, default_covering="hijab").head_covering == "hijab"
    assert look_for({"head_covering": "none"}, default_covering="hijab").head_covering == "none"


def torso_point(render: MannequinRender, name: str) -> tuple[int, int]:
    points = render.transform.apply(BY_NAME[name].keypoints.points)
    x = points[NECK][0] * 0.4 + (points[R_HIP][0] + points[L_HIP][0]) * 0.3
    y = points[NECK][1] * 0.4 + (points[R_HIP][1] + points[L_HIP][1]) * 0.3
    return round(y), round(x)


def test_skin_tone_changes_the_skin_and_clothing_colour_the_shirt() -> None:
    name = "Classic Headshot"
    light, deep = render(name, {"skin_tone": "light"}), render(name, {"skin_tone": "deep"})
    points = light.transform.apply(BY_NAME[name].keypoints.points)
    cheek_x, cheek_y = round(points[0][0] - 0.4 * (points[0][0] - points[16][0])), round(points[0][1])
    cheek = (slice(cheek_y - 2, cheek_y + 3), slice(cheek_x - 2, cheek_x + 3))
    assert pixels(light)[cheek].mean() - pixels(deep)[cheek].mean() > 60
    name = "Warrior II"
    red, green = render(name, {"clothing_color": "red"}), render(name, {"clothing_color": "#2e784c"})
    y, x = torso_point(red, name)
    r, g = (
        pixels(red)[y - 3 : y + 4, x - 3 : x + 4].mean((0, 1)),
        pixels(green)[y - 3 : y + 4, x - 3 : x + 4].mean((0, 1)),
    )
    assert r[0] > r[1] + 40 and g[1] > g[0] + 30


def test_the_same_avatar_always_gives_the_same_pixels() -> None:
    first, second = render("Tree Pose", HEAVY), render("Tree Pose", HEAVY)
    assert first.image.tobytes() == second.image.tobytes()


def test_a_back_view_shows_no_face() -> None:
    keypoints = BodyPose(turn=180).keypoints()
    back = body_parts(keypoints.points, keypoints.depth)
    front_keys = BodyPose().keypoints()
    front = body_parts(front_keys.points, front_keys.depth)
    features = {"eye_r", "eye_l", "nose", "mouth", "face", "neckline"}
    assert not features & {part.name for part in back}
    assert "seam" in {part.name for part in back}
    assert {"eye_r", "eye_l", "nose", "mouth", "neckline"} <= {part.name for part in front}


def test_feet_stand_on_the_ground() -> None:
    # Standing, front view: the foot is a short wedge below the ankle, not a pointed toe down the shin.
    keypoints = BodyPose().keypoints()
    parts = {part.name: part for part in body_parts(keypoints.points, keypoints.depth)}
    ankle = keypoints.points[R_ANKLE]
    toe = parts["foot_r"].circles[-1]
    assert toe.y - ankle[1] < 0.4 * body_unit(keypoints.points)
    # Side view: the foot points forward, level with the ground.
    side = BodyPose(turn=90).keypoints()
    parts = {part.name: part for part in body_parts(side.points, side.depth)}
    heel, toe = parts["foot_r"].circles
    assert toe.x - heel.x > 2 * abs(toe.y - heel.y)


def test_headshots_are_framed_as_busts_and_differ() -> None:
    heads = [spec for spec in POSES if spec.framing is Framing.PORTRAIT][:4]
    renders = [render(spec.name) for spec in heads]
    for result in renders:
        figure = mask(result)
        # The chest runs out at the bottom edge, as in a photograph, and the head fills the frame.
        assert figure[-1].mean() > 0.3
        assert figure[: SIZE // 2].mean() > 0.15
    for a in range(len(renders)):
        for b in range(a + 1, len(renders)):
            assert iou(mask(renders[a]), mask(renders[b])) < 0.97


def segment_distance(p: Point, a: Point, b: Point) -> float:
    ax, ay, bx, by = a[0], a[1], b[0], b[1]
    t = max(
        0.0, min(1.0, ((p[0] - ax) * (bx - ax) + (p[1] - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2))
    )
    return math.dist(p[:2], (ax + t * (bx - ax), ay + t * (by - ay)))


def test_tree_pose_foot_rests_on_the_standing_thigh() -> None:
    points = BY_NAME["Tree Pose"].keypoints.points
    thigh = math.dist(points[R_HIP][:2], points[R_KNEE][:2])
    assert segment_distance(points[13], points[R_HIP], points[R_KNEE]) < 0.25 * thigh
    # The bent knee still points out to the side.
    assert points[L_KNEE][0] - points[L_HIP][0] > 0.3 * thigh


@pytest.mark.parametrize("name", ["Child's Pose", "Standing Forward Fold"])
def test_folded_poses_keep_head_and_hands_above_the_floor(name: str) -> None:
    points = BY_NAME[name].keypoints.points
    floor = max(points[i][1] for i in (9, 10, 12, 13))
    assert points[0][1] <= floor and points[4][1] <= floor and points[7][1] <= floor
