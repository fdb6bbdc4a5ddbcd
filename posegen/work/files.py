"""Where a job's files go and how they are written and removed: one layout for every kind."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import structlog

from posegen.imaging.presets import resolve_preset
from posegen.storage.base import Storage, content_type_for
from posegen.work.postprocess import Processed

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StoredFiles:
    """The keys of one stored render. `exports` maps every export format to its key (`original`
    is the image itself)."""

    image: str
    thumbnail: str
    control_map: str | None
    exports: dict[str, str]


def layout(folder: str, processed: Processed, formats: Sequence[str]) -> StoredFiles:
    """The keys of a render's files under `folder`. A folder is unique per claim (see
    `Pipeline.folder`): a stopping worker's files never share a key with its successor's."""
    exports = {name: f"{folder}/{name}.{_extension(name)}" for name in processed.exports}
    if "original" in formats:
        exports["original"] = f"{folder}/image.png"
    return StoredFiles(
        image=f"{folder}/image.png",
        thumbnail=f"{folder}/thumbnail.webp",
        control_map=f"{folder}/control.png" if processed.control_map_png is not None else None,
        exports=exports,
    )


def _extension(name: str) -> str:
    """The file extension of export `name`: keys end in it, so the URL names the format too."""
    preset = resolve_preset(name)
    if preset is None:  # postprocess validated every format; an unknown one cannot get this far
        raise ValueError(f"unknown export preset {name!r}")
    return preset.extension


async def store(storage: Storage, files: StoredFiles, processed: Processed, written: list[str]) -> None:
    """Write the files, adding each key to `written` as soon as it is stored, so a caller cut
    short midway knows what to delete."""
    blobs: list[tuple[str, bytes, str | None]] = [
        (files.image, processed.image_png, "image/png"),
        (files.thumbnail, processed.thumbnail_webp, "image/webp"),
    ]
    if files.control_map is not None and processed.control_map_png is not None:
        blobs.append((files.control_map, processed.control_map_png, "image/png"))
    blobs += [
        (files.exports[name], data, content_type_for(files.exports[name]))
        for name, data in processed.exports.items()
    ]
    for key, data, content_type in blobs:
        await storage.put(key, data, content_type)
        written.append(key)


async def delete(storage: Storage, keys: Iterable[str]) -> None:
    """Remove files no outcome keeps; a failure is logged, never raised (the caller is cleaning up)."""
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:
            log.exception("cleanup_failed", key=key)
