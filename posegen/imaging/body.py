"""The mannequin body model: a skeleton turned into convex "hull of circles" parts.

The mannequin renderer paints these parts, and framing (:mod:`posegen.imaging.geometry`) computes the
frame from the same shapes, so heads, hands and feet can never be cut off. Everything here works in the
keypoints' own coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from posegen.imaging.keypoints import is_present, validate_points
from posegen.imaging.vectors import XY, add, lerp, mean, norm, rotated, scaled, sub, unit_vector
from posegen.kit.openpose import (
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_EYE,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
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

_PointLookup = Callable[[int], XY | None]
FACE = (NOSE, R_EYE, L_EYE, R_EAR, L_EAR)

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
_TORSO_LENGTH = 2.4  # neck keypoint to mid-hip
_FALLBACK_UNIT = 0.1  # a skeleton with no measurable segment is drawn at about 7.5 units tall


@dataclass(frozen=True)
class Circle:
    """A circle in whatever coordinates the keypoints were given in."""

    x: float
    y: float
    r: float


@dataclass(frozen=True)
class BodyPart:
    """One rigid piece of the mannequin: the convex hull of its circles.

    ``keypoints`` are the indices whose mean depth orders the part back to front; ``layer`` breaks depth
    ties so a flat pose still stacks naturally (torso under limbs, joints over the segments they join).
    ``material`` picks the palette colour (``"body"`` or ``"joint"``); ``cylindrical`` parts are shaded
    across their axis, the others towards a centre, like a sphere.
    """

    name: str
    circles: tuple[Circle, ...]
    keypoints: tuple[int, ...]
    layer: int
    material: str = "body"
    cylindrical: bool = True


# Draw-order tie-breaks for parts at the same depth. The pelvis covers the tops of the thighs, as the
# block of a wooden mannequin does; that is also why the hips get no ball joint of their own.
_LAYER_THIGH, _LAYER_SHIN, _LAYER_FOOT = 0, 1, 2
_LAYER_PELVIS, _LAYER_ABDOMEN, _LAYER_CHEST, _LAYER_NECK, _LAYER_HEAD = 3, 4, 5, 6, 7
_LAYER_UPPER_ARM, _LAYER_FOREARM, _LAYER_HAND, _LAYER_JOINT = 8, 9, 10, 11

# Segment radii (body units) at the proximal end, the bulge and the distal end, with the bulge's
# position along the segment.
_SEGMENTS: tuple[tuple[str, int, int, float, float, float, float, int], ...] = (
    ("upper_arm_r", R_SHOULDER, R_ELBOW, 0.21, 0.2, 0.3, 0.145, _LAYER_UPPER_ARM),
    ("forearm_r", R_ELBOW, R_WRIST, 0.145, 0.155, 0.25, 0.1, _LAYER_FOREARM),
    ("upper_arm_l", L_SHOULDER, L_ELBOW, 0.21, 0.2, 0.3, 0.145, _LAYER_UPPER_ARM),
    ("forearm_l", L_ELBOW, L_WRIST, 0.145, 0.155, 0.25, 0.1, _LAYER_FOREARM),
    ("thigh_r", R_HIP, R_KNEE, 0.31, 0.28, 0.3, 0.19, _LAYER_THIGH),
    ("shin_r", R_KNEE, R_ANKLE, 0.19, 0.2, 0.3, 0.12, _LAYER_SHIN),
    ("thigh_l", L_HIP, L_KNEE, 0.31, 0.28, 0.3, 0.19, _LAYER_THIGH),
    ("shin_l", L_KNEE, L_ANKLE, 0.19, 0.2, 0.3, 0.12, _LAYER_SHIN),
)
_JOINTS: tuple[tuple[str, int, float], ...] = (
    ("shoulder_r", R_SHOULDER, 0.23),
    ("elbow_r", R_ELBOW, 0.165),
    ("wrist_r", R_WRIST, 0.12),
    ("shoulder_l", L_SHOULDER, 0.23),
    ("elbow_l", L_ELBOW, 0.165),
    ("wrist_l", L_WRIST, 0.12),
    ("knee_r", R_KNEE, 0.21),
    ("ankle_r", R_ANKLE, 0.14),
    ("knee_l", L_KNEE, 0.21),
    ("ankle_l", L_ANKLE, 0.14),
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
        best = max(best, math.hypot(points[NECK][0] - mid[0], points[NECK][1] - mid[1]) / _TORSO_LENGTH)
    return best if best > 0 else _FALLBACK_UNIT


def body_parts(points: Sequence[Point]) -> list[BodyPart]:
    """The mannequin body model for a skeleton, built only from present keypoints.

    Works in the keypoints' own coordinates and only uses similarity-invariant rules, so the parts of
    transformed points are the transformed parts.
    """
    validate_points(points)
    u = body_unit(points)

    def at(i: int) -> XY | None:
        p = points[i]
        return (p[0], p[1]) if is_present(p) else None

    parts: list[BodyPart] = []
    torso = _torso(at, u)
    parts.extend(torso.parts)

    for name, a, b, ra, rm, tm, rb, layer in _SEGMENTS:
        pa, pb = at(a), at(b)
        if pa is None or pb is None:
            continue
        mid = lerp(pa, pb, tm)
        segment = (Circle(*pa, ra * u), Circle(*mid, rm * u), Circle(*pb, rb * u))
        parts.append(BodyPart(name, segment, (a, b), layer))

    for name, i, r in _JOINTS:
        p = at(i)
        if p is not None:
            parts.append(BodyPart(name, (Circle(*p, r * u),), (i,), _LAYER_JOINT, "joint", cylindrical=False))

    for name, elbow, wrist in (("hand_r", R_ELBOW, R_WRIST), ("hand_l", L_ELBOW, L_WRIST)):
        pw = at(wrist)
        if pw is None:
            continue
        pe = at(elbow)
        direction = unit_vector(sub(pw, pe), torso.down) if pe is not None else torso.down
        side = (-direction[1], direction[0])
        hand = (
            Circle(*add(pw, scaled(direction, 0.22 * u)), 0.13 * u),
            Circle(*add(add(pw, scaled(direction, 0.5 * u)), scaled(side, 0.04 * u)), 0.12 * u),
            Circle(*add(pw, scaled(direction, 0.62 * u)), 0.1 * u),
        )
        parts.append(BodyPart(name, hand, (wrist,), _LAYER_HAND))

    facing = _facing(at, u)
    for name, knee, ankle in (("foot_r", R_KNEE, R_ANKLE), ("foot_l", L_KNEE, L_ANKLE)):
        pa = at(ankle)
        if pa is None:
            continue
        pk = at(knee)
        shin = unit_vector(sub(pa, pk), torso.down) if pk is not None else torso.down
        direction = _foot_direction(pa, shin, torso, facing)
        foot = (
            Circle(*add(pa, scaled(direction, 0.1 * u)), 0.15 * u),
            Circle(*add(pa, scaled(direction, 0.52 * u)), 0.115 * u),
        )
        parts.append(BodyPart(name, foot, (ankle,), _LAYER_FOOT))

    head = _head(at, torso, u)
    if head is not None:
        centre, up, face_keypoints = head
        neck = at(NECK)
        if neck is not None:
            column = (Circle(*neck, 0.18 * u), Circle(*lerp(neck, centre, 0.62), 0.15 * u))
            parts.append(BodyPart("neck", column, (NECK, *face_keypoints[:1]), _LAYER_NECK))
        # The jaw leans towards the nose, so a turned head shows which way it faces.
        nose = at(NOSE)
        across = (-up[1], up[0])
        lean = 0.0
        if nose is not None:
            offset = sub(nose, centre)
            lean = max(-0.13 * u, min(0.13 * u, (offset[0] * across[0] + offset[1] * across[1]) * 0.8))
        jaw = add(add(centre, scaled(up, -0.3 * u)), scaled(across, lean))
        skull = (Circle(*add(centre, scaled(up, 0.06 * u)), 0.43 * u), Circle(*jaw, 0.27 * u))
        parts.append(BodyPart("head", skull, face_keypoints, _LAYER_HEAD, cylindrical=False))
    return parts


def body_extent(points: Sequence[Point]) -> tuple[float, float, float, float] | None:
    """Bounding box ``(x0, y0, x1, y1)`` of the body model in the keypoints' coordinates, or None."""
    circles = [c for part in body_parts(points) for c in part.circles]
    if not circles:
        return None
    return (
        min(c.x - c.r for c in circles),
        min(c.y - c.r for c in circles),
        max(c.x + c.r for c in circles),
        max(c.y + c.r for c in circles),
    )


@dataclass(frozen=True)
class _Torso:
    parts: tuple[BodyPart, ...]
    down: XY  # unit vector along the spine, neck towards pelvis
    top: XY | None
    bottom: XY | None
    half_shoulder: float


def _torso(at: _PointLookup, u: float) -> _Torso:
    neck = at(NECK)
    shoulders = [p for p in (at(R_SHOULDER), at(L_SHOULDER)) if p is not None]
    hips = [p for p in (at(R_HIP), at(L_HIP)) if p is not None]
    top = neck if neck is not None else (mean(shoulders) if shoulders else None)
    bottom = mean(hips) if hips else None

    rs, ls = at(R_SHOULDER), at(L_SHOULDER)
    if top is not None and bottom is not None:
        down = unit_vector(sub(bottom, top), (0.0, 1.0))
    elif rs is not None and ls is not None:
        # Perpendicular to the shoulder line, on the side that points down the image.
        across = unit_vector(sub(ls, rs), (1.0, 0.0))
        down = (-across[1], across[0]) if across[0] >= 0 else (across[1], -across[0])
    else:
        down = (0.0, 1.0)
    if top is None and bottom is None:
        return _Torso((), down, None, None, 0.0)

    # ``side`` points from the figure's right to its left (image right for a figure facing the viewer).
    side = (down[1], -down[0])

    def half_width(right: XY | None, left: XY | None, minimum: float) -> XY:
        # Seen from the side, a pair of joints overlap; the torso keeps its depth as a minimum width.
        if right is not None and left is not None:
            half = scaled(sub(left, right), 0.5)
            if norm(half) >= minimum:
                return half
            return scaled(unit_vector(half, side), minimum)
        return scaled(side, minimum)

    half_s = half_width(rs, ls, 0.5 * u)
    half_h = half_width(at(R_HIP), at(L_HIP), 0.42 * u)
    parts: list[BodyPart] = []
    if top is not None:
        shoulder_mid = mean([rs, ls]) if rs is not None and ls is not None else top
        length = norm(sub(bottom, top)) if bottom is not None else _TORSO_LENGTH * u
        length = max(length, 1.2 * u)

        def axis_at(t: float) -> XY:
            return add(shoulder_mid, scaled(down, length * t))

        rib_half = lerp(half_s, half_h, 0.5)
        chest = (
            Circle(*add(top, scaled(down, -0.04 * u)), 0.24 * u),
            Circle(*add(axis_at(0.1), scaled(half_s, 0.78)), 0.26 * u),
            Circle(*add(axis_at(0.1), scaled(half_s, -0.78)), 0.26 * u),
            Circle(*add(axis_at(0.42), scaled(rib_half, 0.62)), 0.3 * u),
            Circle(*add(axis_at(0.42), scaled(rib_half, -0.62)), 0.3 * u),
        )
        parts.append(
            BodyPart("chest", chest, (NECK, R_SHOULDER, L_SHOULDER), _LAYER_CHEST, cylindrical=False)
        )
        waist_half = scaled(lerp(half_s, half_h, 0.7), 0.45)
        abdomen = (
            Circle(*add(axis_at(0.55), waist_half), 0.3 * u),
            Circle(*add(axis_at(0.55), scaled(waist_half, -1)), 0.3 * u),
            Circle(*add(axis_at(0.78), waist_half), 0.3 * u),
            Circle(*add(axis_at(0.78), scaled(waist_half, -1)), 0.3 * u),
        )
        parts.append(
            BodyPart(
                "abdomen",
                abdomen,
                (NECK, R_SHOULDER, L_SHOULDER, R_HIP, L_HIP),
                _LAYER_ABDOMEN,
                cylindrical=False,
            )
        )
    if bottom is not None:
        pelvis = (
            Circle(*add(add(bottom, scaled(down, -0.22 * u)), scaled(half_h, 0.85)), 0.3 * u),
            Circle(*add(add(bottom, scaled(down, -0.22 * u)), scaled(half_h, -0.85)), 0.3 * u),
            Circle(*add(bottom, scaled(half_h, 0.95)), 0.3 * u),
            Circle(*add(bottom, scaled(half_h, -0.95)), 0.3 * u),
            Circle(*add(bottom, scaled(down, 0.38 * u)), 0.26 * u),
        )
        parts.append(BodyPart("pelvis", pelvis, (R_HIP, L_HIP), _LAYER_PELVIS, cylindrical=False))
    return _Torso(tuple(parts), down, top, bottom, norm(half_s) / u)


def _facing(at: _PointLookup, u: float) -> float:
    """+1 or -1 when the face clearly points right or left across the image (a profile view), else 0."""
    nose = at(NOSE)
    if nose is None:
        return 0.0
    ears = [p for p in (at(R_EAR), at(L_EAR)) if p is not None]
    neck = at(NECK)
    reference = mean(ears) if ears else neck
    if reference is None:
        return 0.0
    dx = nose[0] - reference[0]
    if abs(dx) < 0.2 * u:
        return 0.0
    return 1.0 if dx > 0 else -1.0


def _foot_direction(ankle: XY, shin: XY, torso: _Torso, facing: float) -> XY:
    """Which way a foot points: turned out a little from the shin, or forward in a profile view."""
    if torso.half_shoulder < 0.62 and facing:
        # Shoulders overlapping means a side view: the feet point where the face does.
        candidates = (rotated(shin, math.radians(72)), rotated(shin, -math.radians(72)))
        return max(candidates, key=lambda d: d[0] * facing)
    centre = torso.bottom or torso.top
    if centre is None:
        return shin
    turn = math.radians(18)
    candidates = (rotated(shin, turn), rotated(shin, -turn))
    # Toes turn away from the body's midline, towards the side the ankle is already on.
    outward = 1.0 if ankle[0] >= centre[0] else -1.0
    return max(candidates, key=lambda d: d[0] * outward)


def _head(at: _PointLookup, torso: _Torso, u: float) -> tuple[XY, XY, tuple[int, ...]] | None:
    """Head centre, its up direction and the keypoints it stands for; estimated from the neck if faceless."""
    face = [(i, p) for i in FACE if (p := at(i)) is not None]
    neck = at(NECK)
    if face:
        centre = mean([p for _, p in face])
        up = unit_vector(sub(centre, neck), (0.0, -1.0)) if neck is not None else scaled(torso.down, -1)
        return centre, up, tuple(i for i, _ in face)
    if neck is not None and torso.top is not None:
        up = scaled(torso.down, -1)
        return add(neck, scaled(up, 0.95 * u)), up, (NECK,)
    return None
