"""Files of finished poses: ZIP entries (exports rendered on the fly when missing) and deletion."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Mapping, Sequence

import structlog
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from posegen.db import after_commit
from posegen.errors import ValidationFailed
from posegen.generation import repository as generations
from posegen.generation.filenames import pose_stems
from posegen.generation.manage import completed_pose
from posegen.generation.models import GeneratedPose
from posegen.imaging.exports import render_export
from posegen.imaging.presets import PRESETS, ExportPreset, resolve_preset
from posegen.kit.ids import new_id
from posegen.kit.tasks import background
from posegen.storage.base import FileMissing, Storage

log = structlog.get_logger(__name__)


def _render(image_png: bytes, preset: ExportPreset, focus: tuple[int, int, int, int] | None) -> bytes:
    with Image.open(io.BytesIO(image_png)) as image:
        image.load()
        return render_export(image, preset, focus)


async def export_bytes(storage: Storage, pose: GeneratedPose, preset: ExportPreset) -> bytes:
    """A pose's export: the stored file, or rendered now from the original when missing."""
    assert pose.image_key is not None
    if preset.key == "original":
        return await storage.get(pose.image_key)
    key = (pose.export_keys or {}).get(preset.key)
    if key:
        try:
            return await storage.get(key)
        except FileMissing:
            log.info("export_missing_rendering", pose_id=pose.id, format=preset.key)
    box = pose.figure_box
    focus = (box[0], box[1], box[2], box[3]) if box and len(box) == 4 else None
    image = await storage.get(pose.image_key)
    return await run_in_threadpool(_render, image, preset, focus)


def zip_presets(presets: Sequence[ExportPreset], include_originals: bool) -> list[ExportPreset]:
    """The files each pose contributes to a ZIP, in order, each once: the original first."""
    chosen = [PRESETS["original"]] if include_originals else []
    for preset in presets:
        if preset not in chosen:
            chosen.append(preset)
    return chosen


async def zip_entries(
    storage: Storage,
    poses: Sequence[GeneratedPose],
    stems: Mapping[str, str],
    presets: Sequence[ExportPreset],
) -> AsyncIterator[tuple[str, bytes]]:
    """(name, bytes) of every file, one at a time: `<stem>/<preset>.<ext>` for each completed pose
    (`stems` by pose id, see `filenames.stems`) and each of `presets` (from `zip_presets`)."""
    for pose in poses:
        if pose.image_key is None:
            continue
        for preset in presets:
            data = await export_bytes(storage, pose, preset)
            yield f"{stems[pose.id]}/{preset.key}.{preset.extension}", data


async def delete_files(storage: Storage, keys: Sequence[str]) -> None:
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:
            log.exception("file_delete_failed", key=key)


async def regenerate_export(
    session: AsyncSession, storage: Storage, user_id: str, pose_id: str, format_key: str
) -> tuple[str, str, str]:
    """Render one export of a finished pose again from its original; (preset key, storage key,
    download name)."""
    preset = resolve_preset(format_key)
    if preset is None:
        raise ValidationFailed(f"format: unknown format {format_key!r}", field="format")
    pose = await completed_pose(session, user_id, pose_id)
    image_key = pose.image_key
    assert image_key is not None  # completed_pose checked it
    name = f"{(await pose_stems(session, [pose]))[pose.id]}-{preset.key}.{preset.extension}"
    if preset.key == "original":
        return preset.key, image_key, name
    box = pose.figure_box
    focus = (box[0], box[1], box[2], box[3]) if box and len(box) == 4 else None
    data = await run_in_threadpool(_render, await storage.get(image_key), preset, focus)
    key = f"generations/{pose.generation_id}/{pose.id}/exports/{new_id()}-{preset.key}.{preset.extension}"
    await storage.put(key, data)
    old = await generations.set_export_key(session, pose, preset.key, key)
    if old and old != key:
        after_commit(session, lambda: background(delete_files(storage, [old])))
    return preset.key, key, name
