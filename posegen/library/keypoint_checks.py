"""Checks that any 18 OpenPose keypoints can be run through, curated or imported.

`plausibility_problems` compares bone lengths with the body model's typical ones
(`posegen.library.skeleton.BONE_LENGTHS`), `pose_distance` says how different two poses look and
`mirrored` flips a pose left to right.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

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
    LIMBS,
    NECK,
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
from posegen.library.skeleton import ABSENT, BONE_LENGTHS

# Each right-side point with its left-side counterpart, for mirroring a pose.
MIRROR_PAIRS: tuple[tuple[int, int], ...] = (
    (R_SHOULDER, L_SHOULDER),
    (R_ELBOW, L_ELBOW),
    (R_WRIST, L_WRIST),
    (R_HIP, L_HIP),
    (R_KNEE, L_KNEE),
    (R_ANKLE, L_ANKLE),
    (R_EYE, L_EYE),
    (R_EAR, L_EAR),
)

_HEAD_BONES = frozenset({(1, 0), (0, 14), (14, 16), (0, 15), (15, 17)})
# How much longer than its typical length a bone may look before it is implausible. The head
# gets more room: children's heads are larger relative to the body and detectors place eyes
# and ears loosely, so only clearly broken faces should be reported.
BODY_TOLERANCE = 1.35
HEAD_TOLERANCE = 1.7


def _present(point: Sequence[float]) -> bool:
    return point[2] > 0.0


def plausibility_problems(points: Sequence[Point]) -> list[str]:
    """Anatomical sanity problems of 18 keypoints (curated or imported); [] means plausible.

    The figure's scale is estimated from the bones that are present: each bone's 2D length is
    divided by its typical 3D length, and the median of the larger half of those ratios is taken,
    because foreshortening only ever makes bones look shorter. A bone that looks more than
    1.35 × (head bones 1.7 ×) longer than that scale allows is reported. Short bones are never
    reported: any bone can point at the camera. Left/right length differences are not checked
    separately either, since one side foreshortened looks exactly like that.
    """
    if len(points) != len(KEYPOINT_NAMES):
        return [f"expected {len(KEYPOINT_NAMES)} keypoints, got {len(points)}"]
    problems: list[str] = []
    for index, point in enumerate(points):
        if len(point) != 3 or not all(math.isfinite(value) for value in point):
            problems.append(f"{KEYPOINT_NAMES[index]} is not three finite numbers")
        elif not 0.0 <= point[2] <= 1.0:
            problems.append(f"{KEYPOINT_NAMES[index]} has a confidence outside 0–1")
    if problems:
        return problems
    if not _present(points[NECK]):
        problems.append("the neck is missing")
    bones = [(a, b) for a, b in LIMBS if _present(points[a]) and _present(points[b])]
    lengths = {bone: math.dist(points[bone[0]][:2], points[bone[1]][:2]) for bone in bones}
    body = [bone for bone in bones if bone not in _HEAD_BONES]
    # The face alone says little about the body's size, so it only sets the scale when few
    # body bones are there to do it.
    basis = body if len(body) >= 3 else bones
    if len(basis) < 3:
        return problems
    ratios = sorted((lengths[bone] / BONE_LENGTHS[bone] for bone in basis), reverse=True)
    scale = statistics.median(ratios[: (len(ratios) + 1) // 2])
    if scale <= 0.0:
        problems.append("the keypoints have no extent")
        return problems
    for bone in bones:
        tolerance = HEAD_TOLERANCE if bone in _HEAD_BONES else BODY_TOLERANCE
        stretch = lengths[bone] / (scale * BONE_LENGTHS[bone])
        if stretch > tolerance:
            first, second = KEYPOINT_NAMES[bone[0]], KEYPOINT_NAMES[bone[1]]
            problems.append(f"the {first}–{second} bone is {stretch:.2f} × its expected length")
    return problems


def _normalised(points: Sequence[Point], indices: Sequence[int]) -> list[tuple[float, float]]:
    """The chosen points centred on their centroid and scaled to unit RMS radius."""
    xs = [points[i][0] for i in indices]
    ys = [points[i][1] for i in indices]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    radius = math.sqrt(sum((x - cx) ** 2 + (y - cy) ** 2 for x, y in zip(xs, ys, strict=True)) / len(xs))
    radius = radius or 1.0
    return [((x - cx) / radius, (y - cy) / radius) for x, y in zip(xs, ys, strict=True)]


def pose_distance(a: Sequence[Point], b: Sequence[Point]) -> float:
    """How different two poses look, independent of where they sit and how large they are.

    Only points present in both count. Each pose's points are centred on their centroid and scaled
    to unit RMS radius, then the mean Euclidean distance between corresponding points is returned:
    0 for the same pose; about 0.025 for a head turned 30°, 0.04 for one forearm swung 45°, 0.12 for
    a whole arm moved 45° and 0.3 for both arms raised into a T. With fewer than three shared
    points the poses cannot be compared and the result is inf.
    """
    common = [i for i in range(min(len(a), len(b))) if _present(a[i]) and _present(b[i])]
    if len(common) < 3:
        return math.inf
    first, second = _normalised(a, common), _normalised(b, common)
    return sum(math.dist(p, q) for p, q in zip(first, second, strict=True)) / len(common)


def mirrored(points: Sequence[Point]) -> tuple[Point, ...]:
    """The pose flipped left-to-right: x mirrored and left/right keypoints swapped."""
    flipped = [(1.0 - x, y, c) if c > 0.0 else ABSENT for x, y, c in points]
    for right, left in MIRROR_PAIRS:
        flipped[right], flipped[left] = flipped[left], flipped[right]
    return tuple(flipped)
