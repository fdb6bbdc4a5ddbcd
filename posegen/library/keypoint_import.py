"""Keypoints from what clients send: 18 normalised points, or pose JSON from OpenPose tools.

Accepted JSON: `people[0].pose_keypoints_2d` as OpenPose, DWPose and the
ComfyUI pose editors write it — COCO-18 (54 numbers) or OpenPose BODY_25
(75 numbers, mapped to COCO-18) — in pixels with `canvas_width` and
`canvas_height`, or already normalised to 0–1. A non-square canvas is placed
centred on a square one so the figure keeps its proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from posegen.errors import ValidationFailed
from posegen.kit.openpose import Point
from posegen.library.keypoint_checks import plausibility_problems

ABSENT: Point = (0.0, 0.0, 0.0)
COUNT = 18

# BODY_25 index of each COCO-18 point (BODY_25 adds a mid-hip at 8 and feet at 19–24).
_BODY25_TO_COCO18 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)


def _fail(message: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, field=field)


def from_points(raw: Sequence[Sequence[float]], field: str = "keypoints") -> list[Point]:
    """Validate 18 `[x, y, confidence]` triples with x, y in 0–1; absent points become (0, 0, 0)."""
    if len(raw) != COUNT:
        raise _fail(f"{field}: expected {COUNT} points, got {len(raw)}", field)
    points: list[Point] = []
    for index, triple in enumerate(raw):
        if len(triple) != 3 or not all(math.isfinite(value) for value in triple):
            raise _fail(f"{field}[{index}]: expected [x, y, confidence] numbers", field)
        x, y, confidence = (float(value) for value in triple)
        if confidence <= 0:
            points.append(ABSENT)
            continue
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise _fail(f"{field}[{index}]: x and y must be within 0–1", field)
        points.append((x, y, 1.0))
    if points[1] == ABSENT:
        raise _fail(f"{field}: the neck (point 1) must be present", field)
    return points


def from_pose_json(document: dict[str, Any], field: str = "poseJson") -> list[Point]:
    """Points from an OpenPose/DWPose/ComfyUI pose document (first person)."""
    people = document.get("people")
    if not isinstance(people, list) or not people or not isinstance(people[0], dict):
        raise _fail(f"{field}: expected people[0].pose_keypoints_2d", field)
    flat = people[0].get("pose_keypoints_2d")
    if not isinstance(flat, list) or not all(isinstance(value, int | float) for value in flat):
        raise _fail(f"{field}: pose_keypoints_2d must be a list of numbers", field)
    if len(flat) == COUNT * 3:
        triples = [flat[i : i + 3] for i in range(0, len(flat), 3)]
    elif len(flat) == 25 * 3:
        triples = [flat[i * 3 : i * 3 + 3] for i in _BODY25_TO_COCO18]
    else:
        raise _fail(f"{field}: expected 54 (COCO-18) or 75 (BODY_25) numbers, got {len(flat)}", field)

    width, height = document.get("canvas_width"), document.get("canvas_height")
    present = [triple for triple in triples if triple[2] > 0]
    if isinstance(width, int | float) and isinstance(height, int | float) and width > 0 and height > 0:
        side = float(max(width, height))
        dx, dy = (side - width) / 2, (side - height) / 2
        normalised = [
            [(x + dx) / side, (y + dy) / side, c] if c > 0 else [0.0, 0.0, 0.0] for x, y, c in triples
        ]
    elif all(0 <= x <= 1 and 0 <= y <= 1 for x, y, _ in present):
        normalised = [list(map(float, triple)) for triple in triples]
    else:
        raise _fail(f"{field}: pixel coordinates need canvas_width and canvas_height", field)
    return from_points(normalised, field)


def plausible(points: list[Point], field: str = "keypoints") -> list[Point]:
    """`points` when they pass the plausibility checks (`keypoint_checks`); `ValidationFailed`
    listing the problems otherwise."""
    problems = plausibility_problems(points)
    if problems:
        raise ValidationFailed(
            f"{field}: the figure is not anatomically plausible", field=field, details={"problems": problems}
        )
    return points
