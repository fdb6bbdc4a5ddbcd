"""Checks on keypoints and canvases shared by every imaging module.

Keypoints are 18 ``(x, y, confidence)`` tuples in COCO-18 order, x and y normalised to 0–1 of a square
canvas (y down); confidence 0 marks an absent point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from posegen.kit.openpose import KEYPOINT_COUNT, Point


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
