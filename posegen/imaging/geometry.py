"""Keypoint geometry: the OpenPose COCO-18 skeleton, keypoint→pixel transforms and the body model.

Keypoints are 18 ``(x, y, confidence)`` tuples in COCO-18 order, x and y normalised to 0–1 of a square
canvas (y down); confidence 0 marks an absent point. The body model turns a skeleton into the convex
"hull of circles" parts the mannequin renderer paints; it lives here because framing needs it too: the
frame is computed from the same shapes that are drawn, so heads, hands and feet can never be cut off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from posegen.kit.openpose import (
    KEYPOINT_COUNT,
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

XY = tuple[float, float]
_PointLookup = Callable[[int], XY | None]
FACE = (NOSE, R_EYE, L_EYE, R_EAR, L_EAR)


def is_present(point: Point) -> bool:
    """Whether a keypoint was detected (confidence above zero)."""
    return point[2] > 0


def validate_points(points: Sequence[Point]) -> None:
    """Raise ValueError unless ``points`` holds exactly 18 keypoints, the present ones finite."""
    if len(points) != KEYPOINT_COUNT:
        raise ValueError(f"expected {KEYPOINT_COUNT} keypoints, got {len(points)}")
    for index, (x, y, confidence) in enumerate(points):
        if confidence > 0 and not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"keypoint {index} has a non-finite coordinate")


def validate_size(width: int, height: int) -> None:
    """Raise ValueError unless both canvas dimensions are positive."""
    if width <= 0 or height <= 0:
        raise ValueError(f"canvas size must be positive, got {width}x{height}")


# --------------------------------------------------------------------------------------------------
# Transforms


@dataclass(frozen=True)
class Transform:
    """An axis-aligned keypoint→pixel mapping: ``px = x·scale_x + offset_x``, ``py = y·scale_y + offset_y``.

    Only :func:`fit_transform` transforms (uniform scale) keep the figure's proportions.
    """

    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float

    def apply_xy(self, x: float, y: float) -> XY:
        """Map one normalised coordinate pair to pixels."""
        return (x * self.scale_x + self.offset_x, y * self.scale_y + self.offset_y)

    def apply(self, points: Sequence[Point]) -> list[Point]:
        """Map keypoints to pixel coordinates; absent points stay ``(0, 0, 0)``."""
        mapped: list[Point] = []
        for x, y, confidence in points:
            if confidence > 0:
                px, py = self.apply_xy(x, y)
                mapped.append((px, py, confidence))
            else:
                mapped.append((0.0, 0.0, 0.0))
        return mapped


def stretch_transform(width: int, height: int) -> Transform:
    """The standard control-map mapping: ``px = x·W``, ``py = y·H`` (non-uniform on non-square canvases)."""
    validate_size(width, height)
    return Transform(float(width), float(height), 0.0, 0.0)


def fit_transform(points: Sequence[Point], width: int, height: int, margin: float = 0.08) -> Transform:
    """A uniform-scale transform that frames the whole figure centred in the canvas.

    The framed box is the one the mannequin body model occupies (the present keypoints padded by the
    head, hands, feet and limb thickness), so nothing drawn is cut off. ``margin`` is the free border on
    every side as a fraction of the shorter canvas side. With no present keypoint, the unit square is
    fitted instead.
    """
    validate_points(points)
    validate_size(width, height)
    if not 0 <= margin < 0.5:
        raise ValueError(f"margin must be in [0, 0.5), got {margin}")
    extent = body_extent(points) or (0.0, 0.0, 1.0, 1.0)
    x0, y0, x1, y1 = extent
    # A lone point still gets a finite scale: its extent is its padding circle, never empty.
    box_w = max(x1 - x0, 1e-6)
    box_h = max(y1 - y0, 1e-6)
    pad = margin * min(width, height)
    scale = min((width - 2 * pad) / box_w, (height - 2 * pad) / box_h)
    offset_x = (width - scale * box_w) / 2 - scale * x0
    offset_y = (height - scale * box_h) / 2 - scale * y0
    return Transform(scale, scale, offset_x, offset_y)


def figure_box(
    points: Sequence[Point], transform: Transform, *, padded: bool = False
) -> tuple[int, int, int, int]:
    """Pixel bounding box ``(left, top, right, bottom)`` of the present points after ``transform``.

    ``right`` and ``bottom`` are exclusive, as ``PIL.Image.crop`` expects; the box is not clamped to any
    canvas. With ``padded=True`` the box covers the drawn body (head top, hands, feet, limb thickness)
    rather than the bare keypoints. Raises ValueError when no keypoint is present.
    """
    validate_points(points)
    if padded:
        extent = body_extent(points)
        if extent is None:
            raise ValueError("no keypoint is present")
        left, top = transform.apply_xy(extent[0], extent[1])
        right, bottom = transform.apply_xy(extent[2], extent[3])
    else:
        present = [(x, y) for x, y, c in transform.apply(points) if c > 0]
        if not present:
            raise ValueError("no keypoint is present")
        left, right = min(p[0] for p in present), max(p[0] for p in present)
        top, bottom = min(p[1] for p in present), max(p[1] for p in present)
    # A negative scale would swap the edges; order them so the box is always well formed.
    left, right = min(left, right), max(left, right)
    top, bottom = min(top, bottom), max(top, bottom)
    return (math.floor(left), math.floor(top), math.floor(right) + 1, math.floor(bottom) + 1)


# --------------------------------------------------------------------------------------------------
# Vector helpers


def _add(a: XY, b: XY) -> XY:
    return (a[0] + b[0], a[1] + b[1])


def _sub(a: XY, b: XY) -> XY:
    return (a[0] - b[0], a[1] - b[1])


def _mul(a: XY, k: float) -> XY:
    return (a[0] * k, a[1] * k)


def _lerp(a: XY, b: XY, t: float) -> XY:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _length(a: XY) -> float:
    return math.hypot(a[0], a[1])


def _unit(a: XY, fallback: XY) -> XY:
    n = _length(a)
    if n < 1e-9:
        return fallback
    return (a[0] / n, a[1] / n)


def _rotate(a: XY, angle: float) -> XY:
    c, s = math.cos(angle), math.sin(angle)
    return (a[0] * c - a[1] * s, a[0] * s + a[1] * c)


def _mean(points: Sequence[XY]) -> XY:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


# --------------------------------------------------------------------------------------------------
# Body model

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
        mid = _mean(hips)
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
        mid = _lerp(pa, pb, tm)
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
        direction = _unit(_sub(pw, pe), torso.down) if pe is not None else torso.down
        side = (-direction[1], direction[0])
        hand = (
            Circle(*_add(pw, _mul(direction, 0.22 * u)), 0.13 * u),
            Circle(*_add(_add(pw, _mul(direction, 0.5 * u)), _mul(side, 0.04 * u)), 0.12 * u),
            Circle(*_add(pw, _mul(direction, 0.62 * u)), 0.1 * u),
        )
        parts.append(BodyPart(name, hand, (wrist,), _LAYER_HAND))

    facing = _facing(at, u)
    for name, knee, ankle in (("foot_r", R_KNEE, R_ANKLE), ("foot_l", L_KNEE, L_ANKLE)):
        pa = at(ankle)
        if pa is None:
            continue
        pk = at(knee)
        shin = _unit(_sub(pa, pk), torso.down) if pk is not None else torso.down
        direction = _foot_direction(pa, shin, torso, facing)
        foot = (
            Circle(*_add(pa, _mul(direction, 0.1 * u)), 0.15 * u),
            Circle(*_add(pa, _mul(direction, 0.52 * u)), 0.115 * u),
        )
        parts.append(BodyPart(name, foot, (ankle,), _LAYER_FOOT))

    head = _head(at, torso, u)
    if head is not None:
        centre, up, face_keypoints = head
        neck = at(NECK)
        if neck is not None:
            column = (Circle(*neck, 0.18 * u), Circle(*_lerp(neck, centre, 0.62), 0.15 * u))
            parts.append(BodyPart("neck", column, (NECK, *face_keypoints[:1]), _LAYER_NECK))
        # The jaw leans towards the nose, so a turned head shows which way it faces.
        nose = at(NOSE)
        across = (-up[1], up[0])
        lean = 0.0
        if nose is not None:
            offset = _sub(nose, centre)
            lean = max(-0.13 * u, min(0.13 * u, (offset[0] * across[0] + offset[1] * across[1]) * 0.8))
        jaw = _add(_add(centre, _mul(up, -0.3 * u)), _mul(across, lean))
        skull = (Circle(*_add(centre, _mul(up, 0.06 * u)), 0.43 * u), Circle(*jaw, 0.27 * u))
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
    top = neck if neck is not None else (_mean(shoulders) if shoulders else None)
    bottom = _mean(hips) if hips else None

    rs, ls = at(R_SHOULDER), at(L_SHOULDER)
    if top is not None and bottom is not None:
        down = _unit(_sub(bottom, top), (0.0, 1.0))
    elif rs is not None and ls is not None:
        # Perpendicular to the shoulder line, on the side that points down the image.
        across = _unit(_sub(ls, rs), (1.0, 0.0))
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
            half = _mul(_sub(left, right), 0.5)
            if _length(half) >= minimum:
                return half
            return _mul(_unit(half, side), minimum)
        return _mul(side, minimum)

    half_s = half_width(rs, ls, 0.5 * u)
    half_h = half_width(at(R_HIP), at(L_HIP), 0.42 * u)
    parts: list[BodyPart] = []
    if top is not None:
        shoulder_mid = _mean([rs, ls]) if rs is not None and ls is not None else top
        length = _length(_sub(bottom, top)) if bottom is not None else _TORSO_LENGTH * u
        length = max(length, 1.2 * u)

        def axis_at(t: float) -> XY:
            return _add(shoulder_mid, _mul(down, length * t))

        rib_half = _lerp(half_s, half_h, 0.5)
        chest = (
            Circle(*_add(top, _mul(down, -0.04 * u)), 0.24 * u),
            Circle(*_add(axis_at(0.1), _mul(half_s, 0.78)), 0.26 * u),
            Circle(*_add(axis_at(0.1), _mul(half_s, -0.78)), 0.26 * u),
            Circle(*_add(axis_at(0.42), _mul(rib_half, 0.62)), 0.3 * u),
            Circle(*_add(axis_at(0.42), _mul(rib_half, -0.62)), 0.3 * u),
        )
        parts.append(
            BodyPart("chest", chest, (NECK, R_SHOULDER, L_SHOULDER), _LAYER_CHEST, cylindrical=False)
        )
        waist_half = _mul(_lerp(half_s, half_h, 0.7), 0.45)
        abdomen = (
            Circle(*_add(axis_at(0.55), waist_half), 0.3 * u),
            Circle(*_add(axis_at(0.55), _mul(waist_half, -1)), 0.3 * u),
            Circle(*_add(axis_at(0.78), waist_half), 0.3 * u),
            Circle(*_add(axis_at(0.78), _mul(waist_half, -1)), 0.3 * u),
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
            Circle(*_add(_add(bottom, _mul(down, -0.22 * u)), _mul(half_h, 0.85)), 0.3 * u),
            Circle(*_add(_add(bottom, _mul(down, -0.22 * u)), _mul(half_h, -0.85)), 0.3 * u),
            Circle(*_add(bottom, _mul(half_h, 0.95)), 0.3 * u),
            Circle(*_add(bottom, _mul(half_h, -0.95)), 0.3 * u),
            Circle(*_add(bottom, _mul(down, 0.38 * u)), 0.26 * u),
        )
        parts.append(BodyPart("pelvis", pelvis, (R_HIP, L_HIP), _LAYER_PELVIS, cylindrical=False))
    return _Torso(tuple(parts), down, top, bottom, _length(half_s) / u)


def _facing(at: _PointLookup, u: float) -> float:
    """+1 or -1 when the face clearly points right or left across the image (a profile view), else 0."""
    nose = at(NOSE)
    if nose is None:
        return 0.0
    ears = [p for p in (at(R_EAR), at(L_EAR)) if p is not None]
    neck = at(NECK)
    reference = _mean(ears) if ears else neck
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
        candidates = (_rotate(shin, math.radians(72)), _rotate(shin, -math.radians(72)))
        return max(candidates, key=lambda d: d[0] * facing)
    centre = torso.bottom or torso.top
    if centre is None:
        return shin
    turn = math.radians(18)
    candidates = (_rotate(shin, turn), _rotate(shin, -turn))
    # Toes turn away from the body's midline, towards the side the ankle is already on.
    outward = 1.0 if ankle[0] >= centre[0] else -1.0
    return max(candidates, key=lambda d: d[0] * outward)


def _head(at: _PointLookup, torso: _Torso, u: float) -> tuple[XY, XY, tuple[int, ...]] | None:
    """Head centre, its up direction and the keypoints it stands for; estimated from the neck if faceless."""
    face = [(i, p) for i in FACE if (p := at(i)) is not None]
    neck = at(NECK)
    if face:
        centre = _mean([p for _, p in face])
        up = _unit(_sub(centre, neck), (0.0, -1.0)) if neck is not None else _mul(torso.down, -1)
        return centre, up, tuple(i for i, _ in face)
    if neck is not None and torso.top is not None:
        up = _mul(torso.down, -1)
        return _add(neck, _mul(up, 0.95 * u)), up, (NECK,)
    return None
