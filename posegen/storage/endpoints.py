"""`GET /files/{key}`: files of the local backend behind signed, expiring URLs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from posegen.dependencies import StorageDep, UrlSignerDep
from posegen.openapi import binary_body, errors
from posegen.storage.base import FileMissing, content_type_for, validate_key

router = APIRouter(tags=["files"])


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
) -> StreamingResponse:
    """A stored file. The URL's signature and expiry are checked; a missing, tampered or expired
    link is 403 (an expired one says so)."""
    validate_key(key)
    signer.verify_query(key, exp, sig)
    if not await storage.exists(key):
        raise FileMissing("File not found")
    return StreamingResponse(
        storage.stream(key),
        media_type=content_type_for(key),
        headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
