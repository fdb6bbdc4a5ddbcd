"""A picture of what a generation renders: the same poses for different avatars, and the variations
of one pose, drawn by the mannequin engine exactly as a worker draws them (`posegen library gallery`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from posegen.engines.base import RenderRequest
from posegen.engines.mannequin import render_sync
from posegen.generation.takes import take_pose
from posegen.library.poses import POSES, PoseSpec

LABEL_HEIGHT = 40
BACKGROUND = (250, 250, 252)
INK = (40, 40, 48)
SEED = 20_261_204


@dataclass(frozen=True)
class Avatar:
    label: str
    attributes: Mapping[str, str]


# Four people who should not look alike: build, age, hair or covering, skin and clothes differ.
AVATARS: tuple[Avatar, ...] = (
    Avatar(
        "woman, slim, 20-30, long hair",
        {
            "gender": "female",
            "body_type": "slim",
            "age_range": "20-30",
            "hair_style": "long",
            "skin_tone": "light",
            "clothing_color": "red",
        },
    ),
    Avatar(
        "man, heavy, 60-70, bald",
        {
            "gender": "male",
            "body_type": "muscular heavy",
            "age_range": "60-70",
            "hair_style": "bald",
            "skin_tone": "tan",
            "clothing_color": "navy",
        },
    ),
    Avatar(
        "woman, curvy, 30-40, hijab",
        {
            "gender": "female",
            "body_type": "curvy",
            "age_range": "30-40",
            "head_covering": "hijab",
            "skin_tone": "medium",
            "clothing_color": "beige",
        },
    ),
    Avatar(
        "man, athletic, 20-30, curly",
        {
            "gender": "male",
            "body_type": "athletic",
            "age_range": "20-30",
            "hair_style": "curly",
            "skin_tone": "deep",
            "clothing_color": "green",
        },
    ),
)
POSE_SLUGS = ("arms-crossed", "catwalk-stride", "tree-pose")
VARIATIONS_OF = "warrior-ii"


def _pose(slug: str) -> PoseSpec:
    for pose in POSES:
        if pose.slug == slug:
            return pose
    raise KeyError(f"no library pose {slug!r}")


def render_cell(pose: PoseSpec, avatar: Mapping[str, str], variation: int, cell: int) -> Image.Image:
    """Variation `variation` of `pose` for `avatar`, as the mannequin engine renders it."""
    taken = take_pose(pose.keypoints.points, pose.keypoints.depth, variation, SEED + variation)
    request = RenderRequest(
        points=[(float(x), float(y), float(c)) for x, y, c in taken.points],
        depth=taken.depth,
        pose_description=pose.name,
        prompt=pose.name,
        negative_prompt="",
        width=cell,
        height=cell,
        quality="standard",
        seed=SEED + variation,
        avatar=avatar,
        take=taken.take,
    )
    return render_sync(request).image


def _grid(rows: Sequence[Sequence[tuple[str, Image.Image]]], cell: int) -> Image.Image:
    columns = max(len(row) for row in rows)
    sheet = Image.new("RGB", (columns * cell, len(rows) * (cell + LABEL_HEIGHT)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=14)
    for row_number, row in enumerate(rows):
        top = row_number * (cell + LABEL_HEIGHT)
        for column, (label, image) in enumerate(row):
            sheet.paste(image, (column * cell, top))
            draw.text((column * cell + 6, top + cell + 10), label, fill=INK, font=font)
    return sheet


def gallery(cell: int = 320) -> Image.Image:
    """Three library poses, each for the four `AVATARS` (one row per pose), then four variations of
    one pose for the first avatar."""
    rows: list[list[tuple[str, Image.Image]]] = []
    for slug in POSE_SLUGS:
        pose = _pose(slug)
        rows.append(
            [
                (f"{pose.name}: {avatar.label}", render_cell(pose, avatar.attributes, 1, cell))
                for avatar in AVATARS
            ]
        )
    pose = _pose(VARIATIONS_OF)
    rows.append(
        [
            (f"{pose.name}: variation {number}", render_cell(pose, AVATARS[0].attributes, number, cell))
            for number in range(1, 5)
        ]
    )
    return _grid(rows, cell)
