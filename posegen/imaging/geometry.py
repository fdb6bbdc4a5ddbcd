"""Keypoint→pixel transforms and framing.

A :class:`Transform` maps normalised keypoints (see :mod:`posegen.imaging.keypoints`) onto a canvas.
Framing fits the box of the mannequin body model (:mod:`posegen.imaging.body`), not the bare keypoints,
so heads, hands and feet can never be cut off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from posegen.imaging.body import body_extent
from posegen.imaging.head import BARE, HeadStyle
from posegen.imaging.keypoints import validate_points, validate_size
from posegen.imaging.look import NEUTRAL, Figure
from posegen.imaging.vectors import XY
from posegen.kit.openpose import Point


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


def fit_transform(
    points: Sequence[Point],
    width: int,
    height: int,
    margin: float = 0.08,
    *,
    depth: Sequence[float] | None = None,
    figure: Figure = NEUTRAL,
    head: HeadStyle = BARE,
) -> Transform:
    """A uniform-scale transform that frames the whole figure centred in the canvas.

    The framed box is the one the mannequin body model occupies (the present keypoints padded by the
    head, hands, feet and limb thickness), so nothing drawn is cut off. ``margin`` is the free border on
    every side as a fraction of the shorter canvas side. With no present keypoint, the unit square is
    fitted instead. ``depth``, ``figure`` and ``head`` shape the body model as the renderer does.
    """
    validate_points(points)
    validate_size(width, height)
    if not 0 <= margin < 0.5:
        raise ValueError(f"margin must be in [0, 0.5), got {margin}")
    extent = body_extent(points, depth, figure=figure, head=head) or (0.0, 0.0, 1.0, 1.0)
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
