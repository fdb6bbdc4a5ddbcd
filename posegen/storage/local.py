"""Files on the local disk under one root directory (the embedded profile)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from posegen.storage.base import FileMissing, inline_disposition, validate_key
from posegen.storage.signing import UrlSigner


class LocalStorage:
    def __init__(self, root: Path, signer: UrlSigner) -> None:
        self.root = root.resolve()
        self._signer = signer

    def _path(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        # validate_key already refuses traversal; this is the belt to its braces.
        if not path.is_relative_to(self.root):
            raise FileMissing("File not found")
        return path

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        await run_in_threadpool(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return await run_in_threadpool(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise FileMissing("File not found") from exc

    async def stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await run_in_threadpool(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise FileMissing("File not found") from exc
        try:
            while chunk := await run_in_threadpool(handle.read, chunk_size):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await run_in_threadpool(self._path(key).unlink, True)

    async def exists(self, key: str) -> bool:
        return await run_in_threadpool(self._path(key).is_file)

    def url(self, key: str, download_name: str | None = None) -> str:
        if download_name is not None:
            inline_disposition(download_name)  # refuses an unsafe name here, not when served
        return self._signer.sign(validate_key(key), name=download_name)

    async def aclose(self) -> None:
        return None
