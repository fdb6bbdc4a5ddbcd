"""The mannequin body model: a skeleton turned into convex "hull of circles" parts.

The mannequin renderer paints these parts, and framing (:mod:`posegen.imaging.geometry`) computes the
frame from the same shapes, so heads, hands and feet can never be cut off. Everything here works in the
keypoints' own coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from posegen.imaging.head import BARE, HeadStyle, head_parts
from posegen.imaging.keypoints import is_present, validate_points
from posegen.imaging.look import NEUTRAL, Figure
from posegen.imaging.parts import (
    LAYER_FOOT,
    LAYER_FOREARM,
    LAYER_HAND,
    LAYER_JOINT,
    LAYER_SHIN,
    LAYER_THIGH,
    LAYER_UPPER_ARM,
    BodyPart,
    Circle,
)
from posegen.imaging.torso import TORSO_LENGTH, PointLookup, Torso, torso
from posegen.imaging.vectors import XY, add, lerp, mean, norm, rotated, scaled, sub, unit_vector
from posegen.kit.openpose import (
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    NECK,
    NOSE,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    Point,
)

# Body proportions in body units (one unit ≈ one head height). Typical adult segment lengths, used to
# estimate the unit from whichever segments are present: foreshortening only ever shortens a segment,
# so the largest estimate is the most trustworthy one.
_UNIT_ESTIMATES: tuple[tuple[int, int, float], ...] = (
    (R_SHOULDER, L_SHOULDER, 1.5),
    (R_SHOULDER, R_ELBOW, 1.35),
    (L_SHOULDER, L_ELBOW, 1.35),
    (R_ELBOW, R_WRIST, 1.1),
    (L_ELBOW, L_WRIST, 1.1),
    (R_HIP, R_KNEE, 1.9),
    (L_HIP, L_KNEE, 1.9),
    (R_KNEE, R_ANKLE, 1.85),
    (L_KNEE, L_ANKLE, 1.85),
    (NECK, NOSE, 0.8),
    (R_HIP, L_HIP, 1.0),
)
_BUST_DEPTH = 1.1  # body units below the lowest keypoint a bust is framed to
_FALLBACK_UNIT = 0.1  # a skeleton with no measurable segment is drawn at about 7.5 units tall


# Segment radii (body units) at the proximal end, the bulge and the distal end, with the bulge's
# position along the segment, and the material (sleeves and trouser legs).
_SEGMENTS: tuple[tuple[str, int, int, float, float, float, float, int, str], ...] = (
    ("upper_arm_r", R_SHOULDER, R_ELBOW, 0.21, 0.2, 0.3, 0.145, LAYER_UPPER_ARM, "top"),
    ("forearm_r", R_ELBOW, R_WRIST, 0.145, 0.155, 0.25, 0.1, LAYER_FOREARM, "top"),
    ("upper_arm_l", L_SHOULDER, L_ELBOW, 0.21, 0.2, 0.3, 0.145, LAYER_UPPER_ARM, "top"),
    ("forearm_l", L_ELBOW, L_WRIST, 0.145, 0.155, 0.25, 0.1, LAYER_FOREARM, "top"),
    ("thigh_r", R_HIP, R_KNEE, 0.31, 0.28, 0.3, 0.19, LAYER_THIGH, "bottom"),
    ("shin_r", R_KNEE, R_ANKLE, 0.19, 0.2, 0.3, 0.12, LAYER_SHIN, "bottom"),
    ("thigh_l", L_HIP, L_KNEE, 0.31, 0.28, 0.3, 0.19, LAYER_THIGH, "bottom"),
    ("shin_l", L_KNEE, L_ANKLE, 0.19, 0.2, 0.3, 0.12, LAYER_SHIN, "bottom"),
)
_JOINTS: tuple[tuple[str, int, float, str], ...] = (
    ("shoulder_r", R_SHOULDER, 0.23, "top"),
    ("elbow_r", R_ELBOW, 0.165, "top"),
    ("wrist_r", R_WRIST, 0.12, "skin"),
    ("shoulder_l", L_SHOULDER, 0.23, "top"),
    ("elbow_l", L_ELBOW, 0.165, "top"),
    ("wrist_l", L_WRIST, 0.12, "skin"),
    ("knee_r", R_KNEE, 0.21, "bottom"),
    ("ankle_r", R_ANKLE, 0.14, "bottom"),
    ("knee_l", L_KNEE, 0.21, "bottom"),
    ("ankle_l", L_ANKLE, 0.14, "bottom"),
)


def body_unit(points: Sequence[Point]) -> float:
    """The figure's body unit (about one head height) in the keypoints' coordinates."""
    validate_points(points)
    best = 0.0
    for a, b, ratio in _UNIT_ESTIMATES:
        pa, pb = points[a], points[b]
        if is_present(pa) and is_present(pb):
            best = max(best, math.hypot(pa[0] - pb[0], pa[1] - pb[1]) / ratio)
    hips = [(p[0], p[1]) for p in (points[R_HIP], points[L_HIP]) if is_present(p)]
    if is_present(points[NECK]) and hips:
        mid = mean(hips)
        best = max(best, math.hypot(points[NECK][0] - mid[0], points[NECK][1] - mid[1]) / TORSO_LENGTH)
    return best if best > 0 else _FALLBACK_UNIT


def body_parts(
    points: Sequence[Point],
    depth: Sequence[float] | None = None,
    *,
    figure: Figure = NEUTRAL,
    head: HeadStyle = BARE,
) -> list[BodyPart]:
    """The mannequin body model for a skeleton, built only from present keypoints.

    Works in the keypoints' own coordinates and only uses similarity-invariant rules (and which way
    image-down is, to stand feet on the ground), so the parts of scaled and shifted points are the
    scaled and shifted parts. ``depth`` (larger is nearer) tells a side view which way the body faces;
    ``figure`` sets proportions and ``head`` the hair or covering.
    """
    validate_points(points)
    u = body_unit(points)

    def at(i: int) -> XY | None:
        p = points[i]
        return (p[0], p[1]) if is_present(p) else None

    front = _front(at, depth, u)
    trunk = torso(at, u, figure, scaled(front, -1) if front is not None else None)
    parts: list[BodyPart] = list(trunk.parts)

    for name, a, b, ra, rm, tm, rb, layer, material in _SEGMENTS:
        pa, pb = at(a), at(b)
        if pa is None or pb is None:
            continue
        k = figure.arms if material == "top" else figure.limbs
        mid = lerp(pa, pb, tm)
        segment = (Circle(*pa, ra * u * k), Circle(*mid, rm * u * k), Circle(*pb, rb * u * k))
        parts.append(BodyPart(name, segment, (a, b), layer, material))

    for name, i, r, material in _JOINTS:
        p = at(i)
        if p is not None:
            k = figure.arms if name[:-2] in ("shoulder", "elbow", "wrist") else figure.limbs
            circle = (Circle(*p, r * u * k**0.75),)
            parts.append(BodyPart(name, circle, (i,), LAYER_JOINT, material, cylindrical=False, joint=True))

    for name, elbow, wrist in (("hand_r", R_ELBOW, R_WRIST), ("hand_l", L_ELBOW, L_WRIST)):
        pw = at(wrist)
        if pw is None:
            continue
        pe = at(elbow)
        direction = unit_vector(sub(pw, pe), trunk.down) if pe is not None else trunk.down
        side = (-direction[1], direction[0])
        k = figure.arms**0.5
        hand = (
            Circle(*add(pw, scaled(direction, 0.22 * u)), 0.13 * u * k),
            Circle(*add(add(pw, scaled(direction, 0.5 * u)), scaled(side, 0.04 * u)), 0.12 * u * k),
            Circle(*add(pw, scaled(direction, 0.62 * u)), 0.1 * u * k),
        )
        parts.append(BodyPart(name, hand, (wrist,), LAYER_HAND, "skin"))

    for name, knee, ankle in (("foot_r", R_KNEE, R_ANKLE), ("foot_l", L_KNEE, L_ANKLE)):
        pa = at(ankle)
        if pa is not None:
            parts.append(_foot(name, ankle, pa, at(knee), trunk, front, u, figure.limbs**0.5))

    parts.extend(head_parts(at, trunk, u, figure, head))
    return parts


def body_extent(
    points: Sequence[Point],
    depth: Sequence[float] | None = None,
    *,
    figure: Figure = NEUTRAL,
    head: HeadStyle = BARE,
) -> tuple[float, float, float, float] | None:
    """Bounding box ``(x0, y0, x1, y1)`` of the body model in the keypoints' coordinates, or None.

    A bust (shoulders but no hips, as in a headshot) is boxed down to a little below its lowest
    keypoint, so a head-and-shoulders crop frames the head and shoulders and the chest runs out of the
    picture, as in a photograph.
    """
    circles = [c for part in body_parts(points, depth, figure=figure, head=head) for c in part.circles]
    if not circles:
        return None
    x0, y0 = min(c.x - c.r for c in circles), min(c.y - c.r for c in circles)
    x1, y1 = max(c.x + c.r for c in circles), max(c.y + c.r for c in circles)
    present = [p for p in points if is_present(p)]
    bust = not any(is_present(points[i]) for i in (R_HIP, L_HIP, R_KNEE, L_KNEE, R_ANKLE, L_ANKLE))
    if bust and any(is_present(points[i]) for i in (R_SHOULDER, L_SHOULDER)):
        y1 = min(y1, max(p[1] for p in present) + _BUST_DEPTH * body_unit(points))
    return (x0, y0, x1, y1)


def _front(at: PointLookup, depth: Sequence[float] | None, u: float) -> XY | None:
    """The image direction the body faces in a side view (a unit vector), or None for front/back views.

    The side nearer the camera tells it (a figure facing image right shows its right side), measured
    across the legs' own axis so a folded or lying body still gets it right; with flat depth, the nose
    against the ears does, for an upright head.
    """
    hips = [p for p in (at(R_HIP), at(L_HIP)) if p is not None]
    feet = [p for p in (at(R_ANKLE), at(L_ANKLE), at(R_KNEE), at(L_KNEE)) if p is not None]
    rs, ls = at(R_SHOULDER), at(L_SHOULDER)
    if rs is not None and ls is not None and norm(sub(ls, rs)) > 0.75 * u:
        return None  # both shoulders spread out: a front or back view
    down = unit_vector(sub(mean(feet), mean(hips)), (0.0, 1.0)) if hips and feet else (0.0, 1.0)
    side = (down[1], -down[0])
    if depth is not None:
        for right, left in ((R_HIP, L_HIP), (R_SHOULDER, L_SHOULDER)):
            if at(right) is not None and at(left) is not None and abs(depth[right] - depth[left]) > 0.3 * u:
                return side if depth[right] > depth[left] else scaled(side, -1)
    nose = at(NOSE)
    ears = [p for p in (at(R_EAR), at(L_EAR)) if p is not None]
    if nose is None or not ears:
        return None
    dx = nose[0] - mean(ears)[0]
    return None if abs(dx) < 0.2 * u else ((1.0, 0.0) if dx > 0 else (-1.0, 0.0))


def _foot(
    name: str, index: int, ankle: XY, knee: XY | None, trunk: Torso, front: XY | None, u: float, k: float
) -> BodyPart:
    """A foot. On a standing leg it rests on the ground: pointing forward in a side view, and seen
    end-on (short, turned out a little) from the front or the back. A raised or kneeling leg points it
    along the shin, a little towards the body's front."""
    shin = unit_vector(sub(ankle, knee), trunk.down) if knee is not None else trunk.down
    standing = shin[1] > math.cos(math.radians(40))
    length = 0.52
    if standing and front is not None:
        direction = unit_vector((front[0], 0.12), (1.0, 0.0))
    elif standing:
        centre = trunk.bottom or trunk.top
        outward = 1.0 if centre is None or ankle[0] >= centre[0] else -1.0
        direction = rotated((0.0, 1.0), -outward * math.radians(28 if trunk.spread >= 0 else 8))
        length = 0.34 if trunk.spread >= 0 else 0.16
    elif front is None:
        # A raised leg seen from the front: the toes drop (as a foot pressed to the other leg does).
        direction, length = unit_vector((shin[0], shin[1] + 1.2), shin), 0.45
    else:
        direction = shin
        if front is not None:
            candidates = (rotated(shin, math.radians(25)), rotated(shin, -math.radians(25)))
            direction = max(candidates, key=lambda d: d[0] * front[0] + d[1] * front[1])
    circles = (
        Circle(*add(ankle, scaled(direction, 0.1 * u)), 0.15 * u * k),
        Circle(*add(ankle, scaled(direction, length * u)), 0.12 * u * k),
    )
    return BodyPart(name, circles, (index,), LAYER_FOOT, "shoe")
