"""How the mannequin looks for an avatar: body proportions, head (hair or covering) and colours.

:func:`look_for` reads the project's avatar attributes (free text, snake_case keys as stored) and
returns a :class:`Look`. The same attributes always give the same look. Proportions only change how
thick parts are drawn around the keypoints and how wide shoulders and hips are drawn, never where a
joint is, so the figure still shows exactly the requested pose.

The allowed values of the attributes this module defines (`skin_tone`, `clothing_color`,
`head_covering`) are listed here once; the project schema validates against them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Figure:
    """Proportions as factors of the neutral mannequin (1.0 everywhere).

    ``shoulders`` and ``hips`` widen the chest and pelvis drawn around the joints; ``limbs``, ``arms``
    and ``torso`` scale the thickness of legs, arms and the trunk; ``waist`` the abdomen alone; ``head``
    the skull. ``stoop`` (0–1) rounds the upper back and pushes the neck forward a little (older ages).
    """

    shoulders: float = 1.0
    hips: float = 1.0
    limbs: float = 1.0
    arms: float = 1.0
    torso: float = 1.0
    waist: float = 1.0
    head: float = 1.0
    stoop: float = 0.0


NEUTRAL = Figure()

# Named skin tones (a hex colour is accepted too). Chosen explicitly, never derived from ethnicity.
SKIN_TONES: dict[str, RGB] = {
    "porcelain": (244, 221, 206),
    "light": (234, 198, 170),
    "medium": (208, 160, 120),
    "olive": (188, 148, 100),
    "tan": (170, 120, 82),
    "brown": (130, 86, 56),
    "deep": (88, 56, 38),
}
# Named clothing colours (a hex colour is accepted too).
COLOURS: dict[str, RGB] = {
    "black": (40, 40, 46),
    "white": (236, 236, 232),
    "grey": (128, 130, 136),
    "navy": (36, 52, 96),
    "blue": (52, 98, 178),
    "red": (178, 44, 52),
    "green": (46, 120, 76),
    "beige": (206, 186, 150),
    "brown": (116, 78, 52),
    "pink": (222, 140, 168),
    "purple": (110, 70, 150),
    "yellow": (226, 188, 60),
}
HEAD_COVERINGS: tuple[str, ...] = ("none", "hijab", "khimar", "turban")
HAIR_STYLES: tuple[str, ...] = ("bald", "short", "medium", "long", "ponytail", "bun", "curly")
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

_DEFAULT_SKIN = (222, 186, 158)
_DEFAULT_CLOTHES = (96, 110, 132)
_HAIR_COLOURS = {"young": (58, 42, 32), "grey": (176, 174, 170)}
_COVER_COLOUR_SHIFT = 0.55  # a covering is the clothing colour lifted this far towards white


@dataclass(frozen=True)
class Look:
    """Everything the renderer needs to know about the avatar."""

    figure: Figure = NEUTRAL
    skin: RGB = _DEFAULT_SKIN
    top: RGB = _DEFAULT_CLOTHES  # shirt: chest, abdomen, arms
    bottom: RGB = (62, 66, 78)  # trousers or skirt: pelvis and legs
    hair: RGB = _HAIR_COLOURS["young"]
    hair_style: str = "short"
    head_covering: str = "none"
    cover: RGB = (214, 206, 196)


def parse_colour(value: str, named: Mapping[str, RGB]) -> RGB | None:
    """``#rrggbb`` or a name from ``named`` (case-insensitive) as RGB; None if neither."""
    text = value.strip().lower()
    if HEX.match(text):
        return (int(text[1:3], 16), int(text[3:5], 16), int(text[5:7], 16))
    return named.get(text)


def _words(value: str | None) -> set[str]:
    return set(re.findall(r"[a-z]+", (value or "").lower()))


def _gender(value: str | None) -> str:
    words = _words(value)
    if words & {"female", "woman", "women", "girl", "feminine", "f"}:
        return "female"
    if words & {"male", "man", "men", "boy", "masculine", "m"}:
        return "male"
    return "neutral"


def _age(value: str | None) -> int | None:
    numbers = [int(n) for n in re.findall(r"\d+", value or "")]
    return round(sum(numbers) / len(numbers)) if numbers else None


def figure_for(gender: str | None, body_type: str | None, age_range: str | None) -> Figure:
    """Proportions for the gender, body type and age range (free text, matched by keywords)."""
    shoulders, hips, limbs, arms, torso, waist, head, stoop = 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0
    sex = _gender(gender)
    if sex == "female":
        shoulders, hips, limbs, arms, torso, waist = 0.88, 1.14, 0.94, 0.86, 0.92, 0.86
    elif sex == "male":
        shoulders, hips, limbs, arms, torso, waist = 1.1, 0.94, 1.04, 1.08, 1.04, 1.0
    build = _words(body_type)
    if build & {"slim", "thin", "slender", "petite", "skinny", "lean"}:
        limbs, arms, torso, waist = limbs * 0.8, arms * 0.8, torso * 0.84, waist * 0.82
        shoulders, hips = shoulders * 0.94, hips * 0.94
    if build & {"athletic", "fit", "sporty"}:
        arms, limbs, shoulders, waist = arms * 1.1, limbs * 1.06, shoulders * 1.06, waist * 0.92
    if build & {"muscular", "strong", "bodybuilder"}:
        arms, limbs, shoulders, torso = arms * 1.28, limbs * 1.16, shoulders * 1.12, torso * 1.1
    if build & {"heavy", "plus", "curvy", "large", "stocky", "overweight", "big", "fat", "chubby"}:
        limbs, arms, torso, waist, hips = limbs * 1.22, arms * 1.2, torso * 1.2, waist * 1.45, hips * 1.12
    age = _age(age_range)
    if age is not None:
        if age < 18:
            head, shoulders, limbs, arms = 1.08, shoulders * 0.92, limbs * 0.9, arms * 0.9
        elif age >= 50:
            stoop = min(1.0, (age - 45) / 30)
            waist, shoulders = waist * (1 + 0.1 * stoop), shoulders * (1 - 0.04 * stoop)
    return Figure(shoulders, hips, limbs, arms, torso, waist, head, round(stoop, 3))


def _hair_style(value: str | None, sex: str) -> str:
    words = _words(value)
    for style in ("bald", "ponytail", "bun", "curly", "long", "medium", "short"):
        if style in words:
            return style
    if words & {"shaved", "hairless"}:
        return "bald"
    if words & {"wavy", "afro", "coily"}:
        return "curly"
    if words & {"bob", "shoulder"}:
        return "medium"
    if words & {"braid", "braids", "braided"}:
        return "long"
    if words & {"buzz", "crew", "pixie", "cropped"}:
        return "short"
    return "long" if sex == "female" else "short"


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def look_for(avatar: Mapping[str, str], *, default_covering: str = "none") -> Look:
    """The look of the avatar described by ``avatar`` (stored attribute keys, free-text values).

    ``default_covering`` is used when the avatar does not set ``head_covering`` (the Hijab library
    categories pass ``"hijab"``); an explicit ``"none"`` always wins.
    """
    sex = _gender(avatar.get("gender"))
    age = _age(avatar.get("age_range"))
    figure = figure_for(avatar.get("gender"), avatar.get("body_type"), avatar.get("age_range"))
    skin = parse_colour(avatar.get("skin_tone") or "", SKIN_TONES) or _DEFAULT_SKIN
    top = parse_colour(avatar.get("clothing_color") or "", COLOURS) or _DEFAULT_CLOTHES
    bottom = _mix(top, (30, 32, 40), 0.55)
    covering = (avatar.get("head_covering") or default_covering).strip().lower()
    if covering not in HEAD_COVERINGS:
        covering = "none"
    grey = age is not None and age >= 55
    return Look(
        figure=figure,
        skin=skin,
        top=top,
        bottom=bottom,
        hair=_HAIR_COLOURS["grey" if grey else "young"],
        hair_style=_hair_style(avatar.get("hair_style"), sex),
        head_covering=covering,
        cover=_mix(top, (250, 248, 244), _COVER_COLOUR_SHIFT),
    )


def covering_for_category(slug: str | None) -> str:
    """The head covering a pose category implies when the avatar sets none: the Hijab categories
    (``hijab`` and its ``*-hijab`` children) get a hijab."""
    if slug is not None and (slug == "hijab" or slug.endswith("-hijab")):
        return "hijab"
    return "none"
