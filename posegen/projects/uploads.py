"""The upload pipeline: read with a cap, sanitize in a thread, store, record.

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
from posegen.kit.ids import new_id
from posegen.projects import repository
from posegen.projects.models import Upload
from posegen.projects.sanitize import CleanImage, clean_image
from posegen.projects.schemas import UploadOut
from posegen.storage.base import Storage

log = structlog.get_logger(__name__)

READ_CHUNK = 256 * 1024


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    max_pixels: int

    @classmethod
    def of(cls, settings: Settings) -> UploadLimits:
        return cls(settings.server.max_upload_bytes, settings.server.max_upload_pixels)


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


def _prepare(data: bytes, max_pixels: int) -> tuple[CleanImage, str]:
    clean = clean_image(data, max_pixels)
    return clean, hashlib.sha256(clean.data).hexdigest()


def storage_key(user_id: str, upload_id: str, extension: str) -> str:
    return f"uploads/{user_id}/{upload_id}.{extension}"


async def store_upload(
    session: AsyncSession, storage: Storage, *, user_id: str, file: AsyncReadable, limits: UploadLimits
) -> Upload:
    """Read `file` (at most `limits.max_bytes`), sanitize it (see `sanitize.clean_image`) in a
    thread, store the clean file and add its row (flushed)."""
    data = await read_capped(file, limits.max_bytes)
    clean, digest = await run_in_threadpool(_prepare, data, limits.max_pixels)
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
