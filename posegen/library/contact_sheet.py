"""One image showing every pose's mannequin and name, to review the whole library at a glance."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from posegen.imaging.look import covering_for_category, look_for
from posegen.imaging.mannequin import render_mannequin
from posegen.kit.openpose import Point

LABEL_HEIGHT = 34
BACKGROUND = (250, 250, 252)
INK = (40, 40, 48)


@dataclass(frozen=True)
class SheetEntry:
    name: str
    points: Sequence[Point]
    depth: Sequence[float]
    category: str | None = None  # the library category's slug: the Hijab categories draw a hijab


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int
) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and draw.textlength(candidate, font=font) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines[:2]


def contact_sheet(entries: Sequence[SheetEntry], *, columns: int = 12, cell: int = 160) -> Image.Image:
    """A grid of mannequin renders (the default avatar, dressed for each pose's category) with each
    pose's name below it."""
    rows = max(1, math.ceil(len(entries) / columns))
    sheet = Image.new("RGB", (columns * cell, rows * (cell + LABEL_HEIGHT)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    for index, entry in enumerate(entries):
        left = (index % columns) * cell
        top = (index // columns) * (cell + LABEL_HEIGHT)
        look = look_for({}, default_covering=covering_for_category(entry.category))
        figure = render_mannequin(entry.points, entry.depth, cell, cell, look=look)
        sheet.paste(figure.image, (left, top))
        for line_number, line in enumerate(_wrap(draw, entry.name, font, cell - 8)):
            draw.text((left + 4, top + cell + 2 + line_number * 14), line, fill=INK, font=font)
    return sheet


def save_compressed(image: Image.Image, path: str, colors: int = 64) -> None:
    """A small PNG: 64 colours are plenty for flat mannequin shading and text."""
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(path, format="PNG", optimize=True)
