"""After the engine: original, thumbnail, control map and exports of one render, in one pass.

Pure and CPU-bound: the worker runs it in a thread. The image is decoded
(or received) once and every output is derived from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from posegen.imaging.control_map import render_control_map
from posegen.imaging.exports import render_outputs
from posegen.imaging.geometry import Transform, figure_box
from posegen.imaging.thumbnails import encode_png
from posegen.kit.openpose import Point

Box = tuple[int, int, int, int]
_IDENTITY = Transform(1.0, 1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Processed:
    image_png: bytes
    thumbnail_webp: bytes
    control_map_png: bytes | None
    exports: dict[str, bytes]
    figure_box: Box | None
    width: int
    height: int


def focus_box(pixel_points: Sequence[Point] | None, width: int, height: int) -> Box | None:
    """The figure's box in output pixels, clamped to the image, or None when unknown."""
    if not pixel_points or not any(confidence > 0 for _, _, confidence in pixel_points):
        return None
    left, top, right, bottom = figure_box(pixel_points, _IDENTITY, padded=True)
    box = (max(0, left), max(0, top), min(width, right), min(height, bottom))
    return box if box[0] < box[2] and box[1] < box[3] else None


def process(image: Image.Image, pixel_points: Sequence[Point] | None, formats: Sequence[str]) -> Processed:
    """Every stored output of one render (exports for every format but `original`)."""
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    width, height = rgb.size
    focus = focus_box(pixel_points, width, height)
    outputs = render_outputs(rgb, [key for key in formats if key != "original"], focus)
    control = (
        encode_png(render_control_map(pixel_points, width, height, transform=_IDENTITY))
        if pixel_points is not None
        else None
    )
    # `original` is the stored image itself; the worker points its export at the image's key.
    return Processed(encode_png(rgb), outputs.thumbnail, control, dict(outputs.exports), focus, width, height)
