"""The mannequin renderer: a shaded artist's-mannequin figure in the requested pose, on a background.

The body model (:func:`posegen.imaging.body.body_parts`) describes every part as the convex hull of
a few circles. Parts are painted back to front by depth onto a supersampled layer; each part is an
outline-coloured silhouette followed by concentric bands that shrink towards the light and brighten,
which reads as a lit, rounded solid. Limbs shrink across their axis (cylinders), torso, head and joints
towards their centre (spheres). Silhouettes also go into a coverage layer; both are box-downsampled,
which anti-aliases the figure and makes the coverage the exact mask used to composite it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from posegen.imaging.backgrounds import Background, SolidBackground, render_background
from posegen.imaging.body import body_parts, body_unit
from posegen.imaging.geometry import Transform, fit_transform
from posegen.imaging.head import BARE, HeadStyle
from posegen.imaging.keypoints import is_present, validate_points, validate_size
from posegen.imaging.look import NEUTRAL, Look
from posegen.imaging.palettes import DEFAULT_PALETTE, PALETTES, Palette, bare_palettes, look_palettes
from posegen.imaging.parts import BodyPart
from posegen.kit.openpose import Point

__all__ = [
    "DEFAULT_BACKGROUND",
    "DEFAULT_PALETTE",
    "PALETTES",
    "Look",
    "MannequinRender",
    "Palette",
    "render_mannequin",
]

RGB = tuple[int, int, int]
_Disc = tuple[float, float, float]  # x, y, radius in layer pixels


DEFAULT_BACKGROUND = SolidBackground((236, 236, 240))


@dataclass(frozen=True)
class MannequinRender:
    """A rendered figure: the composited RGB ``image``, the figure's anti-aliased alpha ``mask`` (mode
    "L", 255 inside, 0 outside) and the keypoint→pixel ``transform`` it was framed with."""

    image: Image.Image
    mask: Image.Image
    transform: Transform


# Samples per output pixel along each axis; big canvases need fewer, and would otherwise cost memory.
_SUPERSAMPLE = 3
_SUPERSAMPLE_LARGE = 2
_LARGE_CANVAS = 2048 * 2048
# Shading bands after the outline shrink from full size to _CORE; their tone rises from _TONE_EDGE
# (0 is the shadow colour, 0.5 the body colour, 1 the highlight) along an ease-out curve, like the
# falloff of light on a sphere. Bands are at most _BAND_STEP output pixels apart, so once downsampled
# they read as a smooth ramp on big parts and stay cheap on small ones.
_CORE = 0.19
_TONE_EDGE = 0.08
_TONE_CURVE = 1.4
_BAND_STEP = 2.5
_MIN_BANDS, _MAX_BANDS = 5, 32
# Hair, coverings and the face oval lie over a shaded skull: fewer, wider bands read the same there.
_DRESSING_BAND_STEP = 6.0
_DRESSING = frozenset({"hair", "cover"})
# How far the bands slide towards the light, as a fraction of what keeps them inside the silhouette.
_LIGHT_SHIFT = 0.62
_LIGHT_ANGLE = math.atan2(-0.78, -0.62)  # from the upper left, as studio key lights usually are
_LIGHT_JITTER = math.radians(12)
_OUTLINE = 0.035  # body units
_MIN_OUTLINE = 1.1  # output pixels, so small renders keep a visible contour


def render_mannequin(
    points: Sequence[Point],
    depth: Sequence[float],
    width: int,
    height: int,
    *,
    background: Background = DEFAULT_BACKGROUND,
    palette: Palette | str = DEFAULT_PALETTE,
    seed: int = 0,
    margin: float = 0.08,
    look: Look | None = None,
) -> MannequinRender:
    """Render the pose as a shaded mannequin, framed with :func:`fit_transform`, on ``background``.

    ``depth`` gives one value per keypoint, larger meaning nearer the viewer; parts are drawn back to
    front by the mean depth of their keypoints. Only present keypoints are drawn. ``seed`` turns the
    light a little (deterministically); the same arguments always give the same pixels. Pure and
    thread-safe.

    Without ``look`` the figure is a bare mannequin in one ``palette``. With a ``look`` (see
    :func:`posegen.imaging.look.look_for`) it takes the avatar's proportions, hair or head covering,
    skin and clothing colours, and ``palette`` is not used.
    """
    validate_points(points)
    validate_size(width, height)
    if len(depth) != len(points):
        raise ValueError(f"expected {len(points)} depth values, got {len(depth)}")
    if not all(math.isfinite(d) for d in depth):
        raise ValueError("depth values must be finite")
    colours = _resolve_palette(palette)
    materials = look_palettes(look) if look is not None else bare_palettes(colours)
    figure = look.figure if look is not None else NEUTRAL
    head = HeadStyle(look.hair_style, look.head_covering) if look is not None else BARE
    transform = fit_transform(points, width, height, margin, depth=depth, figure=figure, head=head)
    image = render_background(background, width, height)
    mask = Image.new("L", (width, height), 0)
    parts = body_parts(points, depth, figure=figure, head=head)
    if not parts:
        return MannequinRender(image, mask, transform)

    scale = transform.scale_x
    unit_px = body_unit(points) * scale
    bounds = _pixel_bounds(parts, transform, width, height)
    if bounds is None:
        return MannequinRender(image, mask, transform)
    left, top, right, bottom = bounds
    ss = _SUPERSAMPLE if width * height <= _LARGE_CANVAS else _SUPERSAMPLE_LARGE
    size = ((right - left) * ss, (bottom - top) * ss)
    # Colour and coverage are kept apart so that both downsample with a plain box filter. Uncovered
    # colour pixels hold the outline colour, which is what covered pixels at any edge hold too, so
    # averaging across an edge gives the contour colour rather than a fringe.
    edge = materials["top"].outline if look is not None else colours.outline
    layer = Image.new("RGB", size, edge)
    silhouette = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    draw_mask = ImageDraw.Draw(silhouette)

    angle = _LIGHT_ANGLE + random.Random(seed).uniform(-_LIGHT_JITTER, _LIGHT_JITTER)  # noqa: S311 - look, not security
    light = (math.cos(angle), math.sin(angle))
    outline = max(_OUTLINE * unit_px, _MIN_OUTLINE) * ss
    nearness = _nearness(parts, points, depth)

    order = sorted(range(len(parts)), key=lambda i: (nearness[i] + parts[i].bias, parts[i].layer, i))
    for index in order:
        part = parts[index]
        discs = [
            (
                (c.x * scale + transform.offset_x - left) * ss,
                (c.y * scale + transform.offset_y - top) * ss,
                c.r * scale * ss,
            )
            for c in part.circles
        ]
        own = materials.get(part.material, colours)
        if part.flat:
            _paint(draw, draw_mask, [(discs, own.body)])
            continue
        base = own.joint if part.joint else own.body
        fade = (1.0 - nearness[index]) * own.depth_fade
        inner = [(x, y, max(r - outline, r * 0.5)) for x, y, r in discs]
        shapes = [(discs, _mix(own.outline, own.shadow, fade * 0.5))]
        shapes.extend(
            (band, _mix(_tone(own, base, tone), own.shadow, fade))
            for band, tone in _bands(inner, light, part.cylindrical, ss, _step(part))
        )
        _paint(draw, draw_mask, shapes)

    # A box filter gives each output pixel exactly the fraction of it the figure covers.
    alpha = silhouette.reduce(ss)
    image.paste(layer.reduce(ss), (left, top), alpha)
    mask.paste(alpha, (left, top))
    return MannequinRender(image, mask, transform)


def _resolve_palette(palette: Palette | str) -> Palette:
    if isinstance(palette, Palette):
        return palette
    try:
        return PALETTES[palette]
    except KeyError:
        raise ValueError(f"unknown palette {palette!r}; known: {', '.join(sorted(PALETTES))}") from None


def _pixel_bounds(
    parts: Sequence[BodyPart], transform: Transform, width: int, height: int
) -> tuple[int, int, int, int] | None:
    """The canvas region the figure can touch (plus a little slack for rounding), or None if off-canvas."""
    scale = transform.scale_x
    circles = [c for part in parts for c in part.circles]
    x0 = min((c.x - c.r) * scale for c in circles) + transform.offset_x
    y0 = min((c.y - c.r) * scale for c in circles) + transform.offset_y
    x1 = max((c.x + c.r) * scale for c in circles) + transform.offset_x
    y1 = max((c.y + c.r) * scale for c in circles) + transform.offset_y
    pad = 2
    left, top = max(0, math.floor(x0) - pad), max(0, math.floor(y0) - pad)
    right, bottom = min(width, math.ceil(x1) + pad), min(height, math.ceil(y1) + pad)
    if right <= left or bottom <= top:
        return None
    return left, top, right, bottom


def _nearness(parts: Sequence[BodyPart], points: Sequence[Point], depth: Sequence[float]) -> list[float]:
    """Each part's mean keypoint depth, normalised to 0 (farthest) … 1 (nearest) over the figure."""
    present = [float(depth[i]) for i, p in enumerate(points) if is_present(p)]
    low, high = min(present), max(present)
    span = high - low
    values = []
    for part in parts:
        depths = [float(depth[i]) for i in part.keypoints if is_present(points[i])]
        mean = sum(depths) / len(depths) if depths else low
        values.append((mean - low) / span if span > 1e-9 else 1.0)
    return values


def _step(part: BodyPart) -> float:
    return _DRESSING_BAND_STEP if part.material in _DRESSING or part.name == "face" else _BAND_STEP


def _bands(
    discs: Sequence[_Disc], light: tuple[float, float], cylindrical: bool, ss: int, step: float = _BAND_STEP
) -> list[tuple[list[_Disc], float]]:
    """The shading bands of a part: ever smaller copies of its silhouette, slid towards the light.

    A disc shrunk by ``f`` and moved by at most ``(1 - f)·r`` stays inside itself, and the hull of discs
    each inside an original disc stays inside the original hull, so no band spills over the outline.
    Spherical parts also pull their discs towards the part's centre; the slide then uses the distance
    from that centre to the nearest silhouette edge instead of a disc radius.
    """
    lx, ly = light
    bands: list[tuple[list[_Disc], float]] = []
    if cylindrical or len(discs) == 1:
        for f, tone in _band_steps(max(r for _, _, r in discs) / ss, step):
            k = _LIGHT_SHIFT * (1.0 - f)
            bands.append(([(x + k * r * lx, y + k * r * ly, f * r) for x, y, r in discs], tone))
        return bands
    cx = sum(d[0] for d in discs) / len(discs)
    cy = sum(d[1] for d in discs) / len(discs)
    outline = _hulls([discs])[0]
    reach = _inradius(outline, cx, cy) if outline is not None else discs[0][2]
    for f, tone in _band_steps((reach + max(r for _, _, r in discs)) / 2 / ss, step):
        k = _LIGHT_SHIFT * (1.0 - f) * reach
        bands.append(
            (
                [(cx + f * (x - cx) + k * lx, cy + f * (y - cy) + k * ly, f * r) for x, y, r in discs],
                tone,
            )
        )
    return bands


def _band_steps(radius: float, step: float = _BAND_STEP) -> list[tuple[float, float]]:
    """(size factor, tone) of each band for a part whose shading spans ``radius`` output pixels."""
    count = max(_MIN_BANDS, min(_MAX_BANDS, math.ceil(radius * (1.0 - _CORE) / step) + 1))
    steps = []
    for i in range(count):
        s = i / (count - 1)
        tone = _TONE_EDGE + (1.0 - _TONE_EDGE) * (1.0 - (1.0 - s) ** _TONE_CURVE)
        steps.append((1.0 - (1.0 - _CORE) * s, tone))
    return steps


def _tone(palette: Palette, base: RGB, tone: float) -> RGB:
    if tone <= 0.5:
        return _mix(palette.shadow, base, tone * 2)
    return _mix(base, palette.highlight, (tone - 0.5) * 2)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _paint(
    draw: ImageDraw.ImageDraw, draw_mask: ImageDraw.ImageDraw, shapes: Sequence[tuple[Sequence[_Disc], RGB]]
) -> None:
    """Paint each hull of discs in its colour, in order; the first, outermost one also into the mask."""
    for index, ((discs, colour), polygon) in enumerate(
        zip(shapes, _hulls([d for d, _ in shapes]), strict=True)
    ):
        if polygon is None:
            x, y, r = discs[0]
            box = (x - r, y - r, x + r, y + r)
            draw.ellipse(box, fill=colour)
            if index == 0:
                draw_mask.ellipse(box, fill=255)
        else:
            draw.polygon(polygon, fill=colour)
            if index == 0:
                draw_mask.polygon(polygon, fill=255)


# Directions at which disc hulls are sampled: the flattening error stays under 0.2 px for radii up to
# 600 layer pixels, far beyond any part at 2048 px output.
_DIRECTIONS = 144
_NORMALS = np.stack(
    [
        np.cos(np.linspace(0, 2 * np.pi, _DIRECTIONS, endpoint=False)),
        np.sin(np.linspace(0, 2 * np.pi, _DIRECTIONS, endpoint=False)),
    ],
    axis=1,
)


def _hulls(shapes: Sequence[Sequence[_Disc]]) -> list[list[tuple[float, float]] | None]:
    """Convex hulls of several equally sized sets of discs as polygons; None for a single disc.

    The hull's boundary point along each normal is the support point of whichever disc reaches
    furthest that way, so sampling normals in order walks the hull without any sorting.
    """
    if len(shapes[0]) == 1:
        return [None] * len(shapes)
    discs = np.asarray(shapes, dtype=np.float64)  # (shapes, discs, 3)
    centres, radii = discs[:, :, :2], discs[:, :, 2]
    support = centres @ _NORMALS.T + radii[:, :, None]  # (shapes, discs, normals)
    best = np.argmax(support, axis=1)  # (shapes, normals)
    chosen = np.take_along_axis(discs, best[:, :, None], axis=1)  # (shapes, normals, 3)
    points = chosen[:, :, :2] + chosen[:, :, 2:3] * _NORMALS[None, :, :]
    return [[(float(x), float(y)) for x, y in polygon] for polygon in points.tolist()]


def _inradius(polygon: Sequence[tuple[float, float]], cx: float, cy: float) -> float:
    """Distance from ``(cx, cy)`` to the nearest edge of a convex polygon that contains it."""
    best = math.inf
    for i, (ax, ay) in enumerate(polygon):
        bx, by = polygon[(i + 1) % len(polygon)]
        length = math.hypot(bx - ax, by - ay)
        if length > 1e-9:
            best = min(best, abs((bx - ax) * (cy - ay) - (by - ay) * (cx - ax)) / length)
    return 0.0 if best is math.inf else best
