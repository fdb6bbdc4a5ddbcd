"""Mannequin colours: the fixed palettes of the bare mannequin, and the per-material palettes of a
dressed one built from an avatar's :class:`~posegen.imaging.look.Look`."""

from __future__ import annotations

from dataclasses import dataclass

from posegen.imaging.look import Look

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Palette:
    """The colours of a mannequin.

    ``body`` is the lit surface colour, falling off into ``shadow`` away from the light and rising to
    ``highlight`` facing it; ``joint`` is the base colour of the ball joints; ``outline`` separates
    overlapping parts. ``depth_fade`` is how far (0–1) the farthest parts are darkened towards ``shadow``,
    so what is behind recedes.
    """

    body: RGB
    shadow: RGB
    highlight: RGB
    joint: RGB
    outline: RGB
    depth_fade: float = 0.25


PALETTES: dict[str, Palette] = {
    "studio": Palette(
        body=(196, 190, 182),
        shadow=(104, 100, 108),
        highlight=(248, 246, 241),
        joint=(160, 153, 146),
        outline=(58, 56, 64),
    ),
    "warm": Palette(
        body=(212, 164, 112),
        shadow=(118, 72, 42),
        highlight=(250, 224, 182),
        joint=(170, 116, 72),
        outline=(74, 44, 26),
    ),
    "cool": Palette(
        body=(146, 172, 208),
        shadow=(60, 78, 120),
        highlight=(228, 238, 252),
        joint=(104, 130, 176),
        outline=(34, 44, 72),
    ),
    "charcoal": Palette(
        body=(96, 98, 106),
        shadow=(34, 35, 40),
        highlight=(182, 184, 192),
        joint=(70, 72, 80),
        outline=(14, 14, 18),
    ),
    "clay": Palette(
        body=(190, 116, 90),
        shadow=(102, 52, 40),
        highlight=(240, 196, 170),
        joint=(150, 88, 68),
        outline=(62, 30, 24),
    ),
}
DEFAULT_PALETTE = "studio"


def mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def material_palette(base: RGB, joint: RGB | None = None, shine: float = 0.55) -> Palette:
    """A palette that shades ``base``: shadows towards a cool dark, highlights ``shine`` of the way
    towards white."""
    return Palette(
        body=base,
        shadow=mix(base, (22, 20, 30), 0.55),
        highlight=mix(base, (255, 253, 248), shine),
        joint=joint or mix(base, (22, 20, 30), 0.12),
        outline=mix(base, (12, 10, 16), 0.72),
        depth_fade=0.2,
    )


def look_palettes(look: Look) -> dict[str, Palette]:
    """One palette per material of the body model, for a dressed mannequin."""
    skin = material_palette(look.skin)
    return {
        "skin": skin,
        "body": skin,
        "top": material_palette(look.top),
        "bottom": material_palette(look.bottom),
        "shoe": material_palette((46, 40, 38)),
        "hair": material_palette(look.hair, shine=0.22),  # hair is matte: a big sheen would read as grey
        "cover": material_palette(look.cover),
        "eye": material_palette((34, 28, 30)),
        "seam": material_palette(mix(look.top, (12, 10, 16), 0.5)),
        "nose": material_palette(mix(look.skin, (60, 30, 20), 0.28)),
        "mouth": material_palette(mix(look.skin, (150, 40, 50), 0.35)),
    }


def bare_palettes(palette: Palette) -> dict[str, Palette]:
    """Every material in the one palette of a bare mannequin; its facial features in the outline colour
    (the nose a shade of the body)."""
    features = Palette(palette.outline, palette.outline, palette.outline, palette.outline, palette.outline)
    nose = mix(palette.body, palette.shadow, 0.45)
    seam = mix(palette.body, palette.shadow, 0.7)
    return {
        "seam": Palette(seam, seam, seam, seam, palette.outline),
        "eye": features,
        "mouth": features,
        "nose": Palette(nose, nose, nose, nose, palette.outline),
    }
