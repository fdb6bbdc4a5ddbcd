"""`GET /files/{key}`: files of the local backend behind signed, expiring URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from posegen.dependencies import StorageDep, UrlSignerDep
from posegen.errors import Forbidden
from posegen.openapi import binary_body, errors
from posegen.storage.base import (
    OCTET_STREAM,
    FileMissing,
    content_type_for,
    extension_for,
    inline_disposition,
    is_download_name,
    sniff_content_type,
    validate_key,
)

router = APIRouter(tags=["files"])


async def _sniffed(chunks: AsyncIterator[bytes]) -> tuple[str, AsyncIterator[bytes]]:
    """The type the first chunk announces, and every chunk (the first one included) to stream."""
    first = await anext(chunks, b"")

    async def replay() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return sniff_content_type(first[:16]), replay()


def _default_name(key: str, content_type: str) -> str:
    """A download name from the key itself: its last part, given the extension its type has."""
    name = key.rsplit("/", 1)[-1]
    extension = extension_for(content_type)
    if extension is not None and "." not in name:
        name = f"{name}.{extension}"
    return name if is_download_name(name) else f"file.{extension or 'bin'}"


@router.get(
    "/files/{key:path}",
    response_class=StreamingResponse,
    responses={
        **binary_body("image/*", "application/octet-stream", description="The file, as stored"),
        **errors(403),
    },
)
async def get_file(
    key: str,
    storage: StorageDep,
    signer: UrlSignerDep,
    # Checked by the signer, not here: a missing or malformed part is a bad link (403), not a 400.
    exp: Annotated[str | None, Query(max_length=64, description="Expiry, Unix seconds.")] = None,
    sig: Annotated[str | None, Query(max_length=128, description="HMAC-SHA256, hex.")] = None,
    name: Annotated[
        str | None, Query(max_length=200, description="The name to save the file under (signed).")
    ] = None,
) -> StreamingResponse:
    """A stored file. The URL's signature and expiry are checked; a missing, tampered or expired
    link is 403 (an expired one says so). `Content-Type` follows the key's extension (or, for files
    stored without one, the file's first bytes); `Content-Disposition` is `inline` with the link's
    download name, or the key's last part."""
    validate_key(key)
    signer.verify_query(key, exp, sig, name=name)
    if name is not None and not is_download_name(name):
        raise Forbidden("Invalid file link: unusable download name")
    if not await storage.exists(key):
        raise FileMissing("File not found")
    chunks: AsyncIterator[bytes] = storage.stream(key)
    media_type = content_type_for(key)
    if media_type == OCTET_STREAM:
        media_type, chunks = await _sniffed(chunks)
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={
            "Cache-Control": "private, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": inline_disposition(name or _default_name(key, media_type)),
        },
    )
