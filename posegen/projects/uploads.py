"""The upload pipeline: read with a cap, sanitize in a thread within the memory budget, store, record.

Uploads are private to their owner: every lookup by id goes through
`get_owned_upload`, which answers `NotFound` for someone else's upload too.
The service only ever handles bytes the client sent; it never fetches a URL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from posegen.config import Settings
from posegen.errors import NotFound, PayloadTooLarge
from posegen.imaging.budget import ImageMemoryBudget, release_freed_memory, shared_budget
from posegen.kit.ids import new_id
from posegen.projects import repository
from posegen.projects.models import Upload
from posegen.projects.sanitize import CleanImage, Inspected, clean_image, inspect_image
from posegen.projects.schemas import UploadOut
from posegen.storage.base import Storage

log = structlog.get_logger(__name__)

READ_CHUNK = 256 * 1024


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may be, the size it is stored at, and the memory budget its decoding uses."""

    max_bytes: int
    max_pixels: int
    max_side: int
    budget: ImageMemoryBudget

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        server = settings.server
        return cls(
            server.max_upload_bytes,
            server.max_upload_pixels,
            server.max_stored_image_side,
            shared_budget(settings),
        )


class AsyncReadable(Protocol):
    """What the pipeline needs of an uploaded file (FastAPI's `UploadFile` is one)."""

    async def read(self, size: int = -1) -> bytes: ...


async def read_capped(file: AsyncReadable, max_bytes: int) -> bytes:
    """The file's bytes; `PayloadTooLarge` as soon as more than `max_bytes` arrive."""
    chunks: list[bytes] = []
    received = 0
    while chunk := await file.read(READ_CHUNK):
        received += len(chunk)
        if received > max_bytes:
            raise PayloadTooLarge(
                f"File too large: at most {max_bytes:,} bytes", details={"limitBytes": max_bytes}
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _clean(data: bytes, plan: Inspected, limits: UploadLimits) -> tuple[CleanImage, str]:
    try:
        clean = clean_image(data, plan, limits.max_pixels, limits.max_side)
    finally:
        # Every image of the clean-up is garbage by now, also when it failed.
        release_freed_memory()
    return clean, hashlib.sha256(clean.data).hexdigest()


async def sanitize(data: bytes, limits: UploadLimits) -> tuple[CleanImage, str]:
    """The clean image and its SHA-256; the Pillow work runs in the thread pool.

    The header is checked first (cheap, no pixels decoded); the decode and re-encode then hold
    their estimated peak memory of the process-wide budget, which may wait and then refuse (503).
    """
    plan = await run_in_threadpool(inspect_image, data, limits.max_pixels, limits.max_side)
    async with limits.budget.reserve(plan.cost):
        return await run_in_threadpool(_clean, data, plan, limits)


def storage_key(user_id: str, upload_id: str, extension: str) -> str:
    return f"uploads/{user_id}/{upload_id}.{extension}"


async def store_upload(
    session: AsyncSession, storage: Storage, *, user_id: str, file: AsyncReadable, limits: UploadLimits
) -> Upload:
    """Read `file` (at most `limits.max_bytes`), sanitize it (see `sanitize`), store the clean
    file and add its row (flushed)."""
    data = await read_capped(file, limits.max_bytes)
    clean, digest = await sanitize(data, limits)
    upload_id = new_id()
    key = storage_key(user_id, upload_id, clean.format.extension)
    await storage.put(key, clean.data, clean.format.mime)
    upload = Upload(
        id=upload_id,
        user_id=user_id,
        storage_key=key,
        mime=clean.format.mime,
        width=clean.width,
        height=clean.height,
        size_bytes=len(clean.data),
        sha256=digest,
    )
    session.add(upload)
    try:
        await session.flush()
    except Exception:
        # No row will point at the file: remove it rather than leave an orphan behind.
        await storage.delete(key)
        raise
    log.info("upload_stored", upload_id=upload_id, mime=clean.format.mime, bytes=len(clean.data))
    return upload


async def get_owned_upload(session: AsyncSession, user_id: str, upload_id: str) -> Upload:
    """The caller's upload; `NotFound` when it does not exist or belongs to someone else."""
    upload = await repository.owned_upload(session, user_id, upload_id)
    if upload is None:
        raise NotFound("Upload not found")
    return upload


def upload_view(storage: Storage, upload: Upload) -> UploadOut:
    return UploadOut(
        id=upload.id,
        url=storage.url(upload.storage_key),
        width=upload.width,
        height=upload.height,
        bytes=upload.size_bytes,
    )
