"""A pose's images: the mannequin preview, its thumbnail and the control map, rendered and stored."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from starlette.concurrency import run_in_threadpool

from posegen.imaging.control_map import render_control_map
from posegen.imaging.mannequin import render_mannequin
from posegen.imaging.thumbnails import encode_png, encode_webp, thumbnail
from posegen.kit.openpose import Point
from posegen.storage.base import Storage

log = structlog.get_logger(__name__)

PREVIEW_SIZE = 1024
# Raise when the renderers change, so `posegen seed` renders every pose again.
RENDER_VERSION = 1


@dataclass(frozen=True)
class RenderedAssets:
    preview_png: bytes
    thumbnail_webp: bytes
    control_map_png: bytes


@dataclass(frozen=True)
class AssetKeys:
    preview: str
    thumbnail: str
    control_map: str

    def all(self) -> tuple[str, str, str]:
        return (self.preview, self.thumbnail, self.control_map)


def asset_hash(points: Sequence[Point], depth: Sequence[float]) -> str:
    """Identifies the images a pose's keypoints produce (with the renderer version)."""
    payload = json.dumps({"v": RENDER_VERSION, "points": points, "depth": depth}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def render(points: Sequence[Point], depth: Sequence[float]) -> RenderedAssets:
    """Render the three images (CPU-bound: call it off the event loop)."""
    mannequin = render_mannequin(points, depth, PREVIEW_SIZE, PREVIEW_SIZE)
    control = render_control_map(points, PREVIEW_SIZE, PREVIEW_SIZE, transform=mannequin.transform)
    return RenderedAssets(
        preview_png=encode_png(mannequin.image),
        thumbnail_webp=encode_webp(thumbnail(mannequin.image)),
        control_map_png=encode_png(control),
    )


def keys_for(slug: str, digest: str) -> AssetKeys:
    """Keys carry the content hash, so a changed pose never overwrites files still referenced."""
    base = f"library/{slug}/{digest[:16]}"
    return AssetKeys(f"{base}/preview.png", f"{base}/thumbnail.webp", f"{base}/control-map.png")


async def store(storage: Storage, keys: AssetKeys, assets: RenderedAssets) -> None:
    await asyncio.gather(
        storage.put(keys.preview, assets.preview_png, "image/png"),
        storage.put(keys.thumbnail, assets.thumbnail_webp, "image/webp"),
        storage.put(keys.control_map, assets.control_map_png, "image/png"),
    )


async def render_and_store(
    storage: Storage, slug: str, points: Sequence[Point], depth: Sequence[float]
) -> tuple[str, AssetKeys]:
    """Render a new pose's images off the event loop and store them; its content hash and keys."""
    digest = asset_hash(points, depth)
    keys = keys_for(slug, digest)
    rendered = await run_in_threadpool(render, points, depth)
    await store(storage, keys, rendered)
    return digest, keys


async def delete_all(storage: Storage, keys: AssetKeys) -> None:
    for key in keys.all():
        await storage.delete(key)


async def remove_after_commit(storage: Storage, keys: Sequence[str]) -> None:
    """Delete a deleted pose's files; a failure is logged, the row stays deleted.

    Run as a background task: it starts after the response, so after the commit, and a rolled-back
    deletion never loses its files.
    """
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:
            # The client's request succeeded; an orphaned file is an operator's matter.
            log.exception("file_delete_failed", key=key)


async def all_exist(storage: Storage, keys: AssetKeys) -> bool:
    found = await asyncio.gather(*(storage.exists(key) for key in keys.all()))
    return all(found)
