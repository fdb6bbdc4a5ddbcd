"""Backgrounds a figure is composited onto: a solid colour, a vertical gradient or an image."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from posegen.imaging.keypoints import validate_size

RGB = tuple[int, int, int]

_HEX_COLOR = re.compile(r"#([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})([0-9A-Fa-f]{2})")


def _check_rgb(color: RGB, field: str) -> None:
    if len(color) != 3 or not all(isinstance(c, int) and 0 <= c <= 255 for c in color):
        raise ValueError(f"{field} must be three integers in 0–255, got {color!r}")


@dataclass(frozen=True)
class SolidBackground:
    """A single flat colour."""

    color: RGB

    def __post_init__(self) -> None:
        _check_rgb(self.color, "color")


@dataclass(frozen=True)
class GradientBackground:
    """A vertical linear gradient from ``top`` (first row) to ``bottom`` (last row)."""

    top: RGB
    bottom: RGB

    def __post_init__(self) -> None:
        _check_rgb(self.top, "top")
        _check_rgb(self.bottom, "bottom")


@dataclass(frozen=True)
class ImageBackground:
    """An image scaled to cover the canvas and centre-cropped; transparency is flattened onto white."""

    image: Image.Image


Background = SolidBackground | GradientBackground | ImageBackground


def parse_hex_color(value: str) -> RGB:
    """Parse ``#RRGGBB`` (either case) into an RGB tuple; anything else raises ValueError."""
    match = _HEX_COLOR.fullmatch(value)
    if match is None:
        raise ValueError(f"expected a colour as #RRGGBB, got {value!r}")
    red, green, blue = (int(group, 16) for group in match.groups())
    return (red, green, blue)


def render_background(background: Background, width: int, height: int) -> Image.Image:
    """Render ``background`` as a new RGB image of ``width`` × ``height``."""
    validate_size(width, height)
    if isinstance(background, SolidBackground):
        return Image.new("RGB", (width, height), background.color)
    if isinstance(background, GradientBackground):
        return _gradient(background, width, height)
    return _cover(background.image, width, height)


def _gradient(background: GradientBackground, width: int, height: int) -> Image.Image:
    t = np.linspace(0.0, 1.0, height, dtype=np.float64)[:, None] if height > 1 else np.zeros((1, 1))
    top = np.asarray(background.top, dtype=np.float64)
    bottom = np.asarray(background.bottom, dtype=np.float64)
    rows = np.rint(top + (bottom - top) * t).astype(np.uint8)  # (height, 3)
    pixels = np.ascontiguousarray(np.broadcast_to(rows[:, None, :], (height, width, 3)))
    return Image.fromarray(pixels)


def _cover(image: Image.Image, width: int, height: int) -> Image.Image:
    if image.width <= 0 or image.height <= 0:
        raise ValueError("background image is empty")
    source = image
    if source.mode in ("RGBA", "LA", "PA") or (source.mode == "P" and "transparency" in source.info):
        # Uploads with transparency would otherwise show whatever colour hides under alpha 0.
        rgba = source.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        source = Image.alpha_composite(flat, rgba)
    return ImageOps.fit(
        source.convert("RGB"), (width, height), Image.Resampling.LANCZOS, centering=(0.5, 0.5)
    )
