"""What a generation's files are called where people see them: ZIP folders and download names.

Each finished pose gets a stem from its library pose and variation (`arms-crossed-v1`), unique in
its generation; its files are `<stem>/<name>` in a ZIP and `<stem>-<name>` when downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation import repository as generations
from posegen.generation.models import GeneratedPose
from posegen.imaging.presets import resolve_preset
from posegen.kit.text import slugify

# The stem of a pose whose library pose is gone (deleted since: the row keeps no pose id).
UNNAMED = "pose"
_VARIATION = re.compile(r"-v([0-9]+)$")


def stems(poses: Sequence[GeneratedPose], slugs: Mapping[str, str]) -> dict[str, str]:
    """Each pose's stem (by pose id): `<library slug>-v<variation>`, a `-2`, `-3`… added to repeats."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for pose in poses:
        # Slugified again: a slug stored by an older release may hold anything; this one goes into
        # paths and a header.
        library_slug = slugs.get(pose.pose_id or "")
        slug = slugify(library_slug) if library_slug else UNNAMED
        match = _VARIATION.search(pose.variation_key)
        number = int(match.group(1)) if match else pose.variation_index + 1
        stem = base = f"{slug}-v{number}"
        repeat = 1
        while stem in taken:
            repeat += 1
            stem = f"{base}-{repeat}"
        taken.add(stem)
        result[pose.id] = stem
    return result


async def pose_stems(session: AsyncSession, poses: Sequence[GeneratedPose]) -> dict[str, str]:
    """:func:`stems` of these poses, their library slugs read from the database."""
    slugs = await generations.pose_slugs(session, [pose.pose_id for pose in poses if pose.pose_id])
    return stems(poses, slugs)


def export_file_name(format_key: str) -> str:
    """`<preset>.<ext>` of an export format (`original.png` for the original)."""
    preset = resolve_preset(format_key)
    if preset is None:
        raise ValueError(f"unknown export preset {format_key!r}")
    return f"{preset.key}.{preset.extension}"
