"""The OpenPose control map: coloured limbs and joints on black, as ControlNet OpenPose models expect.

Drawn the way ControlNet's OpenPose annotator (``draw_bodypose`` in controlnet_aux) draws a body: each
limb a filled ellipse spanning its segment, ``stickwidth`` pixels to either side of it, in 60 % of its
colour; then every present joint a filled circle in its full colour on top. The annotator paints each limb
opaquely at ``int(0.6 · colour)`` (the older blend at 0.6 opacity gives the same pixels on black), so a
limb's pixels are exactly :func:`limb_color` and a joint's exactly :func:`joint_color`. No
anti-aliasing, as in the annotator: the map holds only black, limb colours and joint colours.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PIL import Image, ImageDraw

from posegen.imaging.geometry import Transform, stretch_transform
from posegen.imaging.keypoints import validate_points
from posegen.kit.openpose import LIMBS, Point

RGB = tuple[int, int, int]

OPENPOSE_COLORS: tuple[RGB, ...] = (
    (255, 0, 0),
    (255, 85, 0),
    (255, 170, 0),
    (255, 255, 0),
    (170, 255, 0),
    (85, 255, 0),
    (0, 255, 0),
    (0, 255, 85),
    (0, 255, 170),
    (0, 255, 255),
    (0, 170, 255),
    (0, 85, 255),
    (0, 0, 255),
    (85, 0, 255),
    (170, 0, 255),
    (255, 0, 255),
    (255, 0, 170),
    (255, 0, 85),
)

_LIMB_INTENSITY = 0.6
_REFERENCE_SIZE = 512  # the annotator's 4 px stick and joint radius are tuned for 512 px maps
_REFERENCE_WIDTH = 4


def limb_color(limb_index: int) -> RGB:
    """The exact colour limb ``limb_index`` (0–16, in ``LIMBS`` order) is painted with."""
    if not 0 <= limb_index < len(LIMBS):
        raise IndexError(f"limb index out of range: {limb_index}")
    red, green, blue = OPENPOSE_COLORS[limb_index]
    return (int(red * _LIMB_INTENSITY), int(green * _LIMB_INTENSITY), int(blue * _LIMB_INTENSITY))


def joint_color(point_index: int) -> RGB:
    """The exact colour keypoint ``point_index`` (0–17) is painted with."""
    if not 0 <= point_index < len(OPENPOSE_COLORS):
        raise IndexError(f"keypoint index out of range: {point_index}")
    return OPENPOSE_COLORS[point_index]


def default_stick_width(width: int, height: int) -> int:
    """Half-thickness of limbs (and joint radius) for a canvas: 4 px at 512 px, scaled with the short side."""
    return max(1, round(_REFERENCE_WIDTH * min(width, height) / _REFERENCE_SIZE))


def render_control_map(
    points: Sequence[Point],
    width: int,
    height: int,
    *,
    transform: Transform | None = None,
    stick_width: int | None = None,
) -> Image.Image:
    """Render keypoints as the standard OpenPose control map (RGB, black background).

    ``transform`` maps keypoints to pixels (default: :func:`stretch_transform`, the annotator's
    mapping); pass the mannequin's transform to get a map that lines up with a mannequin render.
    ``stick_width`` is the limb half-thickness in pixels, like the annotator's ``stickwidth``; joints keep
    their default radius either way. Limbs touching an absent keypoint are skipped.
    """
    validate_points(points)
    mapping = transform if transform is not None else stretch_transform(width, height)
    if stick_width is not None and stick_width < 1:
        raise ValueError(f"stick_width must be at least 1, got {stick_width}")
    half_thickness = stick_width if stick_width is not None else default_stick_width(width, height)
    radius = default_stick_width(width, height)
    pixels = mapping.apply(points)

    image = Image.new("RGB", (width, height), (0, 0, 0))
    draw = ImageDraw.Draw(image)
    for index, (a, b) in enumerate(LIMBS):
        pa, pb = pixels[a], pixels[b]
        if pa[2] > 0 and pb[2] > 0:
            draw.polygon(_limb_polygon(pa[0], pa[1], pb[0], pb[1], half_thickness), fill=limb_color(index))
    for index, (x, y, confidence) in enumerate(pixels):
        if confidence > 0:
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=joint_color(index))
    return image


def _limb_polygon(
    x0: float, y0: float, x1: float, y1: float, half_thickness: float
) -> list[tuple[float, float]]:
    """An ellipse spanning the segment end to end, ``half_thickness`` wide, as a polygon."""
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_length = math.hypot(x1 - x0, y1 - y0) / 2
    angle = math.atan2(y1 - y0, x1 - x0)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    # Enough vertices that the outline stays within half a pixel of the true ellipse on long limbs.
    steps = max(16, min(180, int(half_length / 2) * 4))
    polygon = []
    for k in range(steps):
        t = 2 * math.pi * k / steps
        ex, ey = half_length * math.cos(t), half_thickness * math.sin(t)
        polygon.append((cx + ex * cos_a - ey * sin_a, cy + ex * sin_a + ey * cos_a))
    return polygon
