"""2-D vector helpers for keypoint geometry: points and directions as ``(x, y)`` tuples."""

from __future__ import annotations

import math
from collections.abc import Sequence

XY = tuple[float, float]


def add(a: XY, b: XY) -> XY:
    return (a[0] + b[0], a[1] + b[1])


def sub(a: XY, b: XY) -> XY:
    return (a[0] - b[0], a[1] - b[1])


def scaled(a: XY, k: float) -> XY:
    return (a[0] * k, a[1] * k)


def lerp(a: XY, b: XY, t: float) -> XY:
    """The point a fraction ``t`` of the way from ``a`` to ``b``."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def norm(a: XY) -> float:
    return math.hypot(a[0], a[1])


def unit_vector(a: XY, fallback: XY) -> XY:
    """``a`` scaled to length one, or ``fallback`` when ``a`` is too short to have a direction."""
    n = norm(a)
    if n < 1e-9:
        return fallback
    return (a[0] / n, a[1] / n)


def rotated(a: XY, angle: float) -> XY:
    """``a`` turned by ``angle`` radians (clockwise on screen, where y points down)."""
    c, s = math.cos(angle), math.sin(angle)
    return (a[0] * c - a[1] * s, a[0] * s + a[1] * c)


def mean(points: Sequence[XY]) -> XY:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
