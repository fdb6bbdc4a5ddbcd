"""Static assets under one content-hashed path: `/static/<version>/<name>`.

The version is a hash of every file's name and bytes, so any change gives every
asset a new URL and browsers may cache them for a year. One version for the
whole set (rather than a hash per file) keeps ES module imports relative
(`import … from "./api.js"`) with no build step rewriting them.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from posegen.errors import NotFound

STATIC_ROOT = Path(__file__).parent / "static"
PREFIX = "/static"
# Immutable: the URL changes whenever the bytes do.
CACHE_CONTROL = "public, max-age=31536000, immutable"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


class Assets:
    """Every file under `root`, read once, with the set's version."""

    def __init__(self, root: Path = STATIC_ROOT) -> None:
        whole = hashlib.sha256()
        files: dict[str, Asset] = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            body = path.read_bytes()
            whole.update(name.encode() + b"\0" + body + b"\0")
            media_type = TYPES.get(path.suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
            files[name] = Asset(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
        self.files = files
        self.version = whole.hexdigest()[:16]

    def url(self, name: str) -> str:
        """The URL of asset `name` (a template error, not a broken page, when it does not exist)."""
        if name not in self.files:
            raise KeyError(f"no static asset {name!r}")
        return f"{PREFIX}/{self.version}/{name}"


ASSETS = Assets()

router = APIRouter(include_in_schema=False)


@router.get(PREFIX + "/{version}/{name:path}")
async def static_asset(version: str, name: str, request: Request) -> Response:
    asset = ASSETS.files.get(name)
    if version != ASSETS.version or asset is None:
        raise NotFound("No such asset")
    headers = {"ETag": asset.etag, "Cache-Control": CACHE_CONTROL}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
