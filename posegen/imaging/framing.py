"""Framing an export: where the source image goes in a preset's canvas. A cover crop around the
figure when it keeps the figure's box plus :data:`FIGURE_MARGIN`; otherwise the image is fitted (the
box just fits) and the canvas is extended with the image's own edges, blurred."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

Box = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)
Size = tuple[int, int]

# Room kept around the figure's box on every side, as a fraction of the figure's height: enough that
# hair, fingertips and shoes never touch the export's edge.
FIGURE_MARGIN = 0.04
# Blur radius of the edge extension, as a fraction of the export's shorter side: wide enough that the
# streaks of the replicated edge read as an out-of-focus backdrop, not as stretched pixels.
EXTENSION_BLUR = 0.03


@dataclass(frozen=True)
class Placement:
    """How an export of size ``size`` shows its source: ``source`` (a box of the source image) is
    resized into ``target`` (a box of the export). ``fitted`` is False for a plain cover crop (``target``
    is the whole export); True when the image was fitted and the rest of the canvas is edge extension.
    Boxes are ``(left, top, right, bottom)``, right/bottom exclusive."""

    source: Box
    target: Box
    size: Size
    fitted: bool

    def map_point(self, x: float, y: float) -> tuple[float, float]:
        """Where the source pixel coordinate ``(x, y)`` lands in the export."""
        s_left, s_top, s_right, s_bottom = self.source
        t_left, t_top, t_right, t_bottom = self.target
        return (
            t_left + (x - s_left) * (t_right - t_left) / (s_right - s_left),
            t_top + (y - s_top) * (t_bottom - t_top) / (s_bottom - s_top),
        )


def cover_crop_box(src_w: int, src_h: int, dst_w: int, dst_h: int, focus: Box | None = None) -> Box:
    """The largest crop of a ``src_w``×``src_h`` image with the aspect ratio of ``dst_w``×``dst_h``.

    The crop is centred on ``focus`` (a ``(left, top, right, bottom)`` pixel box, typically the figure's
    :func:`~posegen.imaging.geometry.figure_box`; the part outside the image is ignored) or, without
    one, on the image centre, then shifted to stay inside the image. A focus box that fits in the crop
    is therefore always wholly inside it; one that is larger in a dimension stays centred, so the person
    is as centred as the image allows. Returns ``(left, top, right, bottom)``, right/bottom exclusive.
    """
    if min(src_w, src_h, dst_w, dst_h) <= 0:
        raise ValueError(f"sizes must be positive, got {src_w}x{src_h} -> {dst_w}x{dst_h}")
    # Integer comparison decides which side is cut, so an exact aspect match crops nothing.
    if src_w * dst_h > src_h * dst_w:
        crop_w, crop_h = min(src_w, max(1, round(src_h * dst_w / dst_h))), src_h
    else:
        crop_w, crop_h = src_w, min(src_h, max(1, round(src_w * dst_h / dst_w)))
    centre_x, centre_y = src_w / 2, src_h / 2
    if focus is not None:
        left, top, right, bottom = focus
        if right <= left or bottom <= top:
            raise ValueError(f"focus box must have a positive size, got {focus}")
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, src_w), min(bottom, src_h)
        if right > left and bottom > top:  # a focus wholly outside the image says nothing about it
            centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    x = _place(centre_x, crop_w, src_w)
    y = _place(centre_y, crop_h, src_h)
    return (x, y, x + crop_w, y + crop_h)


def figure_margin_box(focus: Box, src_w: int, src_h: int) -> Box | None:
    """``focus`` grown by :data:`FIGURE_MARGIN` of its height on every side, clamped to the image;
    None when nothing of it lies inside the image."""
    left, top, right, bottom = focus
    if right <= left or bottom <= top:
        raise ValueError(f"focus box must have a positive size, got {focus}")
    pad = math.ceil((bottom - top) * FIGURE_MARGIN)
    box = (max(left - pad, 0), max(top - pad, 0), min(right + pad, src_w), min(bottom + pad, src_h))
    return box if box[0] < box[2] and box[1] < box[3] else None


def place(src_w: int, src_h: int, dst_w: int, dst_h: int, focus: Box | None = None) -> Placement:
    """How a ``src_w``×``src_h`` image fills a ``dst_w``×``dst_h`` export without cutting ``focus``.

    The cover crop (:func:`cover_crop_box`, centred on the figure) is kept when it holds the whole
    figure box plus margin (:func:`figure_margin_box`). Otherwise the image is scaled so that box just
    fits, centred on it and kept as far inside the export as it allows; the uncovered part of the
    export is then filled by :func:`render_all` with the image's edges extended and blurred.
    """
    crop = cover_crop_box(src_w, src_h, dst_w, dst_h, focus)
    whole = (0, 0, dst_w, dst_h)
    need = figure_margin_box(focus, src_w, src_h) if focus is not None else None
    if need is None or _inside(need, crop):
        return Placement(crop, whole, (dst_w, dst_h), fitted=False)
    # A margin clamped at the image's edge is lopsided; centred on it, the crop may still hold it.
    crop = cover_crop_box(src_w, src_h, dst_w, dst_h, need)
    if _inside(need, crop):
        return Placement(crop, whole, (dst_w, dst_h), fitted=False)
    scale = min(dst_w / (need[2] - need[0]), dst_h / (need[3] - need[1]))
    s_left, s_right, t_left, t_right = _fit_axis(need[0], need[2], src_w, dst_w, scale)
    s_top, s_bottom, t_top, t_bottom = _fit_axis(need[1], need[3], src_h, dst_h, scale)
    return Placement(
        (s_left, s_top, s_right, s_bottom), (t_left, t_top, t_right, t_bottom), (dst_w, dst_h), True
    )


def _inside(inner: Box, outer: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _fit_axis(lo: int, hi: int, length: int, dst: int, scale: float) -> tuple[int, int, int, int]:
    """One axis of a fitted placement: (source start, source end, target start, target end).

    The export window is ``dst / scale`` source pixels long, centred on ``[lo, hi)`` and shifted so
    that it shows as much of the image as it can: inside the image when shorter than it, around the
    whole image when longer (the rest is then edge extension).
    """
    window = dst / scale
    centre = (lo + hi) / 2
    if window < length:  # the export shows part of the image along this axis, edge to edge
        # Whole source pixels, rounded up so that `[lo, hi)` (no longer than the window, by the
        # choice of scale) is never cut by the rounding: the start lies in [hi - size, lo].
        size = min(length, math.ceil(window))
        start = math.floor(centre - size / 2 + 0.5)
        start = min(max(start, hi - size, 0), lo, length - size)
        return start, start + size, 0, dst
    # The whole image along this axis, as centred on the figure as keeps it wholly in the export.
    start_f = min(max(centre - window / 2, length - window), 0.0)
    t_lo = max(0, round(-start_f * scale))
    t_hi = min(dst, max(t_lo + 1, round((length - start_f) * scale)))
    return 0, length, t_lo, t_hi


def extend_canvas(inner: Image.Image, placement: Placement) -> Image.Image:
    """``inner`` (RGB, the size of ``placement.target``) on a canvas of ``placement.size``.

    The extension replicates the image's border rows and columns outwards and blurs them, and is not
    darkened: a flat background therefore continues in exactly its own colour, and a textured one
    becomes a soft, matching backdrop. The image itself is pasted over it unblurred.
    """
    size = placement.size
    t_left, t_top, t_right, t_bottom = placement.target
    if (t_left, t_top, t_right, t_bottom) == (0, 0, *size):
        return inner
    pixels = np.asarray(inner)
    padded = np.pad(
        pixels,
        ((t_top, size[1] - t_bottom), (t_left, size[0] - t_right), (0, 0)),
        mode="edge",
    )
    canvas = Image.fromarray(padded, "RGB").filter(
        ImageFilter.GaussianBlur(max(1.0, min(size) * EXTENSION_BLUR))
    )
    canvas.paste(inner, (t_left, t_top))
    return canvas


def _place(centre: float, length: int, limit: int) -> int:
    """Start of a span of ``length`` centred on ``centre``, shifted to lie within ``[0, limit)``."""
    return min(max(math.floor(centre - length / 2 + 0.5), 0), limit - length)
