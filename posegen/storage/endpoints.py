"""`GET /files/{key}`: files of the local backend behind signed, expiring URLs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from posegen.storage.base import FileMissing, Storage, content_type_for, validate_key
from posegen.storage.signing import UrlSigner

router = APIRouter(tags=["files"])


def storage_of(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def signer_of(request: Request) -> UrlSigner:
    signer = request.app.state.url_signer
    assert isinstance(signer, UrlSigner)
    return signer


StorageDep = Annotated[Storage, Depends(storage_of)]


@router.get("/files/{key:path}")
async def get_file(
    key: str,
    storage: StorageDep,
    signer: Annotated[UrlSigner, Depends(signer_of)],
    exp: Annotated[int, Query(ge=0, le=2**40, description="Expiry, Unix seconds.")],
    sig: Annotated[str, Query(min_length=64, max_length=64, pattern="^[0-9a-f]+$", description="HMAC.")],
) -> StreamingResponse:
    """A stored file. The URL's signature and expiry are checked; a tampered or expired URL is 403."""
    validate_key(key)
    signer.verify(key, exp, sig)
    if not await storage.exists(key):
        raise FileMissing("File not found")
    return StreamingResponse(
        storage.stream(key),
        media_type=content_type_for(key),
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
