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


def content_type_for(key: str) -> str:
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


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

    def url(self, key: str) -> str:
        """A short-lived URL a browser can load without headers (`<img src>`)."""

    async def aclose(self) -> None:
        """Release connections (called once at shutdown)."""
