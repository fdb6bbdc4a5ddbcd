"""How closely a detected pose follows the requested one: an OKS-style similarity in 0–1.

Over the joints J that both poses show (confidence > ``threshold`` in each; None when fewer than
``min_joints``), each pose is put in the units of y (x multiplied by ``aspect``), then normalised by
its own centroid and RMS radius over J::

    c = mean_J(p_i)        r = sqrt(mean_J |p_i − c|²)        q_i = (p_i − c) / r

which removes position and size (no rotation, no reflection: a turned or mirrored figure is a
different pose). With d_i = |q_req,i − q_det,i| the score is COCO's object keypoint similarity with
the object scale taken as ``OBJECT_SCALE`` RMS radii::

    score = mean_J exp(−d_i² / (2 · (2·σ_i · OBJECT_SCALE)²))

σ_i are COCO's per-joint sigmas (:data:`SIGMAS`; the neck, which COCO lacks, takes the shoulders').
1 means the same figure; a joint off by its own tolerance contributes exp(−½) ≈ 0.61.

Left and right: a detector cannot always tell a figure's front from its back (a faceless mannequin,
a back view), and then it names every side the other way round while placing the joints where they
are. The score is therefore also computed with the detected sides swapped (same positions, names
exchanged) and the better of the two counts. A mirrored pose still scores low: mirroring moves the
joints, and alignment never reflects.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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

# COCO keypoint sigmas (the COCO keypoint evaluation), in OpenPose-18 order; the neck takes the
# shoulders' value, being their midpoint in every detector that reports it.
SIGMAS: tuple[float, ...] = (
    0.026,  # nose
    0.079,  # neck
    0.079,  # right shoulder
    0.072,  # right elbow
    0.062,  # right wrist
    0.079,  # left shoulder
    0.072,  # left elbow
    0.062,  # left wrist
    0.107,  # right hip
    0.087,  # right knee
    0.089,  # right ankle
    0.107,  # left hip
    0.087,  # left knee
    0.089,  # left ankle
    0.025,  # right eye
    0.025,  # left eye
    0.035,  # right ear
    0.035,  # left ear
)
# COCO scales distances by the square root of the person's segmented area; here they are in RMS radii
# of the joints. For a standing full-body figure the square root of the silhouette's area is about
# this many RMS joint radii (measured on the mannequin; docs/decisions.md "Pose check").
OBJECT_SCALE = 1.42
# A joint counts as shown when its confidence is above this (OpenPose's own threshold for drawing).
VISIBLE_CONFIDENCE = 0.3
# Fewer shared joints than this leave position, size and shape too loosely tied to judge a pose.
MIN_SHARED_JOINTS = 5

_SIDE_PAIRS: tuple[tuple[int, int], ...] = (
    (R_SHOULDER, L_SHOULDER),
    (R_ELBOW, L_ELBOW),
    (R_WRIST, L_WRIST),
    (R_HIP, L_HIP),
    (R_KNEE, L_KNEE),
    (R_ANKLE, L_ANKLE),
    (R_EYE, L_EYE),
    (R_EAR, L_EAR),
)


def pose_score(
    requested: Sequence[Point],
    detected: Sequence[Point],
    *,
    aspect: float = 1.0,
    threshold: float = VISIBLE_CONFIDENCE,
    min_joints: int = MIN_SHARED_JOINTS,
) -> float | None:
    """How closely ``detected`` follows ``requested``, 0–1 (formula in the module docstring).

    Both are 18 OpenPose keypoints normalised to frames of the same shape: ``aspect`` is that frame's
    width over its height (1 for the library's square keypoints; ``Detection.aspect`` for a
    detection compared with the keypoints mapped into the same image). Position and size need not
    match. None when fewer than ``min_joints`` joints are shown by both, under either naming of the
    detected sides. Pure and deterministic.
    """
    if len(requested) != KEYPOINT_COUNT or len(detected) != KEYPOINT_COUNT:
        raise ValueError(f"expected {KEYPOINT_COUNT} keypoints in each pose")
    if not (math.isfinite(aspect) and aspect > 0):
        raise ValueError(f"aspect must be a positive number, got {aspect}")
    scores = [
        score
        for candidate in (detected, swap_sides(detected))
        if (score := _oks(requested, candidate, aspect, threshold, min_joints)) is not None
    ]
    return max(scores) if scores else None


def swap_sides(points: Sequence[Point]) -> tuple[Point, ...]:
    """The same joint positions with every left/right name exchanged (not a mirror: nothing moves)."""
    swapped = list(points)
    for right, left in _SIDE_PAIRS:
        swapped[right], swapped[left] = points[left], points[right]
    return tuple(swapped)


def _oks(
    requested: Sequence[Point], detected: Sequence[Point], aspect: float, threshold: float, min_joints: int
) -> float | None:
    shared = [i for i in range(KEYPOINT_COUNT) if requested[i][2] > threshold and detected[i][2] > threshold]
    if len(shared) < max(min_joints, 2):
        return None
    a = _normalised(requested, shared, aspect)
    b = _normalised(detected, shared, aspect)
    if a is None or b is None:
        return None
    total = 0.0
    for i, (ax, ay), (bx, by) in zip(shared, a, b, strict=True):
        tolerance = 2 * SIGMAS[i] * OBJECT_SCALE
        total += math.exp(-((ax - bx) ** 2 + (ay - by) ** 2) / (2 * tolerance**2))
    return total / len(shared)


def _normalised(
    points: Sequence[Point], indices: Sequence[int], aspect: float
) -> list[tuple[float, float]] | None:
    """The points at ``indices`` centred on their centroid and divided by their RMS radius."""
    xy = [(points[i][0] * aspect, points[i][1]) for i in indices]
    cx = sum(x for x, _ in xy) / len(xy)
    cy = sum(y for _, y in xy) / len(xy)
    radius = math.sqrt(sum((x - cx) ** 2 + (y - cy) ** 2 for x, y in xy) / len(xy))
    if not math.isfinite(radius) or radius < 1e-9:
        return None  # every shared joint on one spot: no shape to compare
    return [((x - cx) / radius, (y - cy) / radius) for x, y in xy]
