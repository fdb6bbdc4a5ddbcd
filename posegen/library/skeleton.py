"""A small kinematic body model that turns named joint angles into OpenPose COCO-18 keypoints.

The model works in a camera frame: x to the right of the image, y down, z toward the viewer.
A `BodyPose` gives every limb segment a direction as two angles, so a pose reads like a
description of it ("upper arm out 80°, forearm up"), and `BodyPose.keypoints` places the joints
with anatomical bone lengths, projects them orthographically and fits them into the unit square.

The checks that any 18 keypoints can be run through (bone lengths, distance between poses,
mirroring) live in `posegen.library.keypoint_checks`; they read the model's `BONE_LENGTHS`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from posegen.kit.openpose import (
    KEYPOINT_NAMES,
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
from posegen.library.taxonomy import Framing

Vec = tuple[float, float, float]
Angles = tuple[float, float]

ABSENT: Point = (0.0, 0.0, 0.0)

# Adult proportions as fractions of body height H (anthropometric tables, Drillis & Contini),
# with the upper arm kept at 1.15 × the forearm and the thigh equal to the shin.
SHOULDER_HALF_WIDTH = 0.115
HIP_HALF_WIDTH = 0.085
TORSO = 0.29  # hip centre up to the neck point between the shoulders
UPPER_ARM = 0.172
FOREARM = 0.15
THIGH = 0.245
SHIN = 0.245

# Face points relative to the neck, in the head's own frame (y down, z where the face looks).
_HEAD_LOCAL: dict[int, Vec] = {
    NOSE: (0.0, -0.097, 0.06),
    R_EYE: (-0.019, -0.12, 0.048),
    L_EYE: (0.019, -0.12, 0.048),
    R_EAR: (-0.045, -0.108, -0.005),
    L_EAR: (0.045, -0.108, -0.005),
}
# Outward normals of the face parts: a part whose normal points away from the camera is hidden
# behind the head, which is how a turned head loses its far ear (first) and far eye (later).
_FACE_NORMALS: dict[int, tuple[Vec, float]] = {
    NOSE: ((0.0, 0.0, 1.0), -0.3),
    R_EYE: ((-0.45, 0.0, 0.89), -0.1),
    L_EYE: ((0.45, 0.0, 0.89), -0.1),
    R_EAR: ((-0.94, 0.0, 0.33), -0.2),
    L_EAR: ((0.94, 0.0, 0.33), -0.2),
}


# Typical 3D length of every limb, in body heights; a 2D bone can only be shorter (foreshortened).
BONE_LENGTHS: dict[tuple[int, int], float] = {
    (1, 2): SHOULDER_HALF_WIDTH,
    (1, 5): SHOULDER_HALF_WIDTH,
    (2, 3): UPPER_ARM,
    (3, 4): FOREARM,
    (5, 6): UPPER_ARM,
    (6, 7): FOREARM,
    (1, 8): math.hypot(TORSO, HIP_HALF_WIDTH),
    (8, 9): THIGH,
    (9, 10): SHIN,
    (1, 11): math.hypot(TORSO, HIP_HALF_WIDTH),
    (11, 12): THIGH,
    (12, 13): SHIN,
    (1, 0): math.dist((0.0, 0.0, 0.0), _HEAD_LOCAL[NOSE]),
    (0, 14): math.dist(_HEAD_LOCAL[NOSE], _HEAD_LOCAL[R_EYE]),
    (14, 16): math.dist(_HEAD_LOCAL[R_EYE], _HEAD_LOCAL[R_EAR]),
    (0, 15): math.dist(_HEAD_LOCAL[NOSE], _HEAD_LOCAL[L_EYE]),
    (15, 17): math.dist(_HEAD_LOCAL[L_EYE], _HEAD_LOCAL[L_EAR]),
}


@dataclass(frozen=True)
class Keypoints:
    """18 OpenPose COCO-18 points (x, y in 0–1 of a square canvas, y down) and their depths."""

    points: tuple[Point, ...]
    depth: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.points) != len(KEYPOINT_NAMES) or len(self.depth) != len(KEYPOINT_NAMES):
            raise ValueError("keypoints need exactly 18 points and 18 depths")

    def as_json(self) -> dict[str, object]:
        """The stored form: `{"format": "openpose-18", "points": [[x, y, confidence], ...]}`."""
        return {
            "format": "openpose-18",
            "points": [[round(x, 4), round(y, 4), round(c, 4)] for x, y, c in self.points],
        }


def _add(a: Vec, b: Vec) -> Vec:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _mul(v: Vec, k: float) -> Vec:
    return (v[0] * k, v[1] * k, v[2] * k)


def _rot_x(v: Vec, degrees: float) -> Vec:
    """Pitch: a positive angle tips "up" (−y) toward the front (+z), as in bowing or nodding."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (v[0], v[1] * c + v[2] * s, -v[1] * s + v[2] * c)


def _rot_y(v: Vec, degrees: float) -> Vec:
    """Yaw: a positive angle turns the front (+z) toward the figure's left (+x, image right)."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (v[0] * c + v[2] * s, v[1], -v[0] * s + v[2] * c)


def _rot_z(v: Vec, degrees: float) -> Vec:
    """Roll: a positive angle tips "up" toward the figure's left (+x, image right)."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return (v[0] * c - v[1] * s, v[0] * s + v[1] * c, v[2])


def limb_direction(angles: Angles, side: int) -> Vec:
    """Unit vector of a limb segment in the body frame.

    `angles` is (out, forward) in degrees: `out` is measured in the frontal plane from straight
    down (0) through sideways away from the body (90) to straight up (180), negative across the
    body; `forward` lifts the segment out of that plane toward the figure's front (90 = pointing
    straight ahead, negative = behind). `side` is −1 for the figure's right, +1 for its left.
    """
    out, forward = math.radians(angles[0]), math.radians(angles[1])
    return (side * math.sin(out) * math.cos(forward), math.cos(out) * math.cos(forward), math.sin(forward))


LIMB_FIELDS: tuple[str, ...] = (
    "r_arm",
    "r_fore",
    "l_arm",
    "l_fore",
    "r_thigh",
    "r_shin",
    "l_thigh",
    "l_shin",
)


@dataclass(frozen=True)
class BodyPose:
    """A pose as named angles in degrees; every default is a relaxed, upright, front-facing stance.

    Whole body: `turn` (yaw toward the figure's own left; at 90 it faces image right, side-on)
    and `roll` (tips the whole figure in the image plane, head toward image right; 90 = lying
    seen from above). Torso, about the hip centre: `lean` (forward), `bend` (sideways toward the
    figure's left), `twist` (shoulders turned toward its left). Head, about the neck, on top of
    the torso: `head_turn`, `head_tilt` (ear toward the left shoulder), `head_nod` (chin down).
    Limb segments take (out, forward) angles, see `limb_direction`; they are absolute in the hip
    frame rather than relative to the torso, so "down" stays down when the torso leans.
    """

    turn: float = 0.0
    roll: float = 0.0
    lean: float = 0.0
    bend: float = 0.0
    twist: float = 0.0
    head_turn: float = 0.0
    head_tilt: float = 0.0
    head_nod: float = 0.0
    r_arm: Angles = (8.0, 0.0)
    r_fore: Angles = (5.0, 10.0)
    l_arm: Angles = (8.0, 0.0)
    l_fore: Angles = (5.0, 10.0)
    r_thigh: Angles = (3.0, 0.0)
    r_shin: Angles = (1.0, 0.0)
    l_thigh: Angles = (3.0, 0.0)
    l_shin: Angles = (1.0, 0.0)

    def with_limbs(self, *presets: Mapping[str, Angles]) -> BodyPose:
        """This pose with some limb angles taken from presets such as `{"r_arm": ..., "r_fore": ...}`.

        Later presets win. Presets name limb fields only, so a typo fails loudly at import time.
        """
        limbs = {name: getattr(self, name) for name in LIMB_FIELDS}
        for preset in presets:
            unknown = sorted(set(preset) - set(LIMB_FIELDS))
            if unknown:
                raise ValueError(f"not limb angles: {', '.join(unknown)}")
            limbs.update(preset)
        return replace(
            self,
            r_arm=limbs["r_arm"],
            r_fore=limbs["r_fore"],
            l_arm=limbs["l_arm"],
            l_fore=limbs["l_fore"],
            r_thigh=limbs["r_thigh"],
            r_shin=limbs["r_shin"],
            l_thigh=limbs["l_thigh"],
            l_shin=limbs["l_shin"],
        )

    def joints(self) -> tuple[list[Vec], list[bool]]:
        """3D joint positions in body heights (camera frame) and which face parts face the camera."""
        torso = self._torso_rotation
        joints: list[Vec] = [(0.0, 0.0, 0.0)] * len(KEYPOINT_NAMES)
        neck = torso((0.0, -TORSO, 0.0))
        joints[NECK] = neck
        for part, offset in _HEAD_LOCAL.items():
            joints[part] = _add(neck, torso(self._head_rotation(offset)))
        chains = (
            (-1, R_SHOULDER, R_ELBOW, R_WRIST, self.r_arm, self.r_fore),
            (1, L_SHOULDER, L_ELBOW, L_WRIST, self.l_arm, self.l_fore),
        )
        for side, shoulder, elbow, wrist, upper, lower in chains:
            joints[shoulder] = _add(neck, torso((side * SHOULDER_HALF_WIDTH, 0.0, 0.0)))
            joints[elbow] = _add(joints[shoulder], _mul(limb_direction(upper, side), UPPER_ARM))
            joints[wrist] = _add(joints[elbow], _mul(limb_direction(lower, side), FOREARM))
        legs = (
            (-1, R_HIP, R_KNEE, R_ANKLE, self.r_thigh, self.r_shin),
            (1, L_HIP, L_KNEE, L_ANKLE, self.l_thigh, self.l_shin),
        )
        for side, hip, knee, ankle, upper, lower in legs:
            joints[hip] = (side * HIP_HALF_WIDTH, 0.0, 0.0)
            joints[knee] = _add(joints[hip], _mul(limb_direction(upper, side), THIGH))
            joints[ankle] = _add(joints[knee], _mul(limb_direction(lower, side), SHIN))
        placed = [self._whole_body(joint) for joint in joints]
        visible = [True] * len(KEYPOINT_NAMES)
        for part, (normal, threshold) in _FACE_NORMALS.items():
            facing = self._whole_body(torso(self._head_rotation(normal)))
            visible[part] = facing[2] > threshold
        return placed, visible

    def keypoints(self, framing: Framing = Framing.FULL_BODY) -> Keypoints:
        """Project the pose and fit it into the unit square for the given framing."""
        joints, visible = self.joints()
        scale, shift_x, shift_y = _fit(joints, visible, framing)
        points: list[Point] = []
        depth: list[float] = []
        for (x, y, z), seen in zip(joints, visible, strict=True):
            px, py = round(x * scale + shift_x, 4), round(y * scale + shift_y, 4)
            if seen and 0.0 <= px <= 1.0 and 0.0 <= py <= 1.0:
                points.append((px, py, 1.0))
                depth.append(round(z * scale, 4) + 0.0)  # + 0.0 turns -0.0 into 0.0
            else:
                points.append(ABSENT)
                depth.append(0.0)
        return Keypoints(points=tuple(points), depth=tuple(depth))

    def _torso_rotation(self, v: Vec) -> Vec:
        return _rot_y(_rot_z(_rot_x(v, self.lean), self.bend), self.twist)

    def _head_rotation(self, v: Vec) -> Vec:
        return _rot_y(_rot_z(_rot_x(v, self.head_nod), self.head_tilt), self.head_turn)

    def _whole_body(self, v: Vec) -> Vec:
        return _rot_z(_rot_y(v, self.turn), self.roll)


# Full-body figures fill this share of the frame's larger extent; a crouched figure is not blown
# up beyond `_MAX_FULL_SCALE` so that it keeps roughly a person's size next to a standing one.
_FULL_BODY_EXTENT = 0.8
_MAX_FULL_SCALE = 1.2
_UPPER_BODY_EXTENT = 0.78
_MAX_UPPER_SCALE = 2.2
# A head-and-shoulders crop: the shoulders span about 75 % of the width, eyes 40 % from the top.
_PORTRAIT_SCALE = 3.3
_PORTRAIT_EYE_Y = 0.4


def _fit(joints: Sequence[Vec], visible: Sequence[bool], framing: Framing) -> tuple[float, float, float]:
    """Scale and shift (in canvas units) that place the projected figure for this framing."""
    shown = [joint for joint, seen in zip(joints, visible, strict=True) if seen]
    if framing is Framing.PORTRAIT:
        eyes_y = (joints[R_EYE][1] + joints[L_EYE][1]) / 2
        centre_x = (joints[NECK][0] + joints[NOSE][0]) / 2
        return _PORTRAIT_SCALE, 0.5 - centre_x * _PORTRAIT_SCALE, _PORTRAIT_EYE_Y - eyes_y * _PORTRAIT_SCALE
    if framing is Framing.UPPER_BODY:
        hips_y = max(joints[R_HIP][1], joints[L_HIP][1])
        upper = [joint for joint in shown if joint[1] <= hips_y]
        top = min(joint[1] for joint in upper)
        left, right = min(joint[0] for joint in upper), max(joint[0] for joint in upper)
        scale = min(
            _UPPER_BODY_EXTENT / max(hips_y - top, 1e-6), 0.92 / max(right - left, 1e-6), _MAX_UPPER_SCALE
        )
        return scale, 0.5 - (left + right) / 2 * scale, 0.1 - top * scale
    left, right = min(joint[0] for joint in shown), max(joint[0] for joint in shown)
    top, bottom = min(joint[1] for joint in shown), max(joint[1] for joint in shown)
    scale = min(_FULL_BODY_EXTENT / max(right - left, bottom - top), _MAX_FULL_SCALE)
    return scale, 0.5 - (left + right) / 2 * scale, 0.5 - (top + bottom) / 2 * scale
