"""The `Storage` protocol and the rules every implementation shares."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import AsyncIterator
from typing import Protocol

from posegen.errors import NotFound, ValidationFailed

# Keys are relative, slash-separated names of safe characters: nothing can
# escape the storage root or smuggle a scheme, a query or a traversal.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*")
MAX_KEY_LENGTH = 512


class FileMissing(NotFound):
    """The key names no stored file."""


def validate_key(key: str) -> str:
    """`key` if it is a safe storage key; `ValidationFailed` otherwise."""
    if (
        len(key) > MAX_KEY_LENGTH
        or not _KEY.fullmatch(key)
        or any(part in {".", ".."} for part in key.split("/"))
    ):
        raise ValidationFailed("Invalid file key", field="key")
    return key


# The formats posegen writes, named here rather than left to the host's mime.types (which may not
# know WebP); anything else falls back to the standard library's guess.
_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "json": "application/json",
    "zip": "application/zip",
}
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
OCTET_STREAM = "application/octet-stream"
# A download name: safe in a quoted header value on every browser, and free of any path.
_DOWNLOAD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def content_type_for(key: str) -> str:
    """The media type the key's extension names; `application/octet-stream` for none or unknown."""
    name = key.rsplit("/", 1)[-1]
    if "." in name:
        known = _TYPES.get(name.rsplit(".", 1)[1].lower())
        if known is not None:
            return known
    guessed, _ = mimetypes.guess_type(name)
    return guessed or OCTET_STREAM


def sniff_content_type(head: bytes) -> str:
    """The image type the file's first bytes announce (files stored before keys had extensions)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return OCTET_STREAM


def extension_for(content_type: str) -> str | None:
    """The extension posegen gives a file of `content_type`, if it is an image type it writes."""
    return _EXTENSIONS.get(content_type)


def inline_disposition(name: str) -> str:
    """`inline; filename="…"` for a download name (`ValidationFailed` for an unsafe one): shown in
    the browser, saved under that name."""
    if not is_download_name(name):
        raise ValidationFailed("Invalid download name", field="name")
    return f'inline; filename="{name}"'


def is_download_name(name: str) -> bool:
    """Whether `name` may be sent as a `Content-Disposition` file name as it is."""
    return _DOWNLOAD_NAME.fullmatch(name) is not None and ".." not in name


class Storage(Protocol):
    """Where posegen keeps files (pose previews, generated images, exports, uploads)."""

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store `data` under `key`, replacing any earlier file, atomically."""

    async def get(self, key: str) -> bytes:
        """The file's bytes; `FileMissing` if there is none."""

    def stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        """The file's bytes in chunks, for responses that should not hold whole files."""

    async def delete(self, key: str) -> None:
        """Remove the file; removing a missing file is not an error."""

    async def exists(self, key: str) -> bool:
        """Whether a file is stored under `key`."""

    def url(self, key: str, download_name: str | None = None) -> str:
        """A short-lived URL a browser can load without headers (`<img src>`). With
        `download_name` (see `is_download_name`), the response names the file so when it is saved."""

    async def aclose(self) -> None:
        """Release connections (called once at shutdown)."""
