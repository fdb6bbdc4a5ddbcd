"""Streaming ZIP archives: bytes go out while entries are still coming in, never the whole archive.

:func:`zip_stream` drives :mod:`zipfile` over a write-only sink. Without ``seek`` the writer puts each
entry's CRC and sizes in a data descriptor after its data, so nothing already written is revisited and
every byte can be handed to the client as soon as it exists. Memory is bounded by ``chunk_size`` plus
one piece of the entry being written (plus the central directory: about 100 bytes per entry).
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections.abc import AsyncGenerator, AsyncIterable
from datetime import UTC, datetime

# JPEG, PNG and WebP are already entropy-coded: deflating them again gains well under 1 % and costs
# CPU on every download, so they (and anything not known to compress) are stored. Text-like entries
# such as a JSON manifest do shrink, and are deflated.
_DEFLATED_SUFFIXES = frozenset({".json", ".txt", ".csv", ".xml", ".svg", ".html", ".md"})

DEFAULT_CHUNK_SIZE = 1 << 20

_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_NAME_BYTES = 0xFFFF  # the ZIP name length field is 16 bits

DateTime = tuple[int, int, int, int, int, int]
Content = bytes | bytearray | memoryview | AsyncIterable[bytes]


class _Sink:
    """A write-only, unseekable file that collects what zipfile writes until it is taken.

    It has ``tell`` (zipfile records entry offsets with it) but no ``seek``, which is what makes
    zipfile write data descriptors instead of going back to patch the local headers.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._pending = 0
        self._position = 0
        self._discarding = False

    def write(self, data: bytes, /) -> int:
        size = len(data)
        self._position += size
        if not self._discarding and size:
            self._parts.append(bytes(data))
            self._pending += size
        return size

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        """Nothing is buffered below this object."""

    def close(self) -> None:
        """Nothing to release; zipfile does not close a file object it was given."""

    @property
    def pending(self) -> int:
        return self._pending

    def take(self) -> bytes:
        """Everything written since the last take, as one chunk."""
        chunk = b"".join(self._parts)
        self._parts.clear()
        self._pending = 0
        return chunk

    def discard(self) -> None:
        """Drop what is held and ignore further writes (the stream was abandoned)."""
        self._discarding = True
        self._parts.clear()
        self._pending = 0


def validate_entry_name(name: str) -> str:
    """Return ``name`` if it is a safe relative ZIP entry name, else raise ValueError.

    Safe means: not empty, ``/``-separated (backslashes are refused, since Windows tools split on
    them), not absolute (no leading ``/``, no drive letter), no empty, ``.`` or ``..`` component (so no
    directory entries and no way out of the extraction folder), no control characters.
    """
    if not name:
        raise ValueError("entry name is empty")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name):
        raise ValueError(f"entry name {name!r} contains a control character")
    if "\\" in name:
        raise ValueError(f"entry name {name!r} contains a backslash")
    if name.startswith("/") or _DRIVE.match(name):
        raise ValueError(f"entry name {name!r} is absolute")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise ValueError(f"entry name {name!r} has an empty, '.' or '..' component")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise ValueError("entry name is too long")
    return name


def compression_for(name: str) -> int:
    """``ZIP_DEFLATED`` for text-like entries, ``ZIP_STORED`` for everything else (see module notes)."""
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > name.rfind("/") else ""
    return zipfile.ZIP_DEFLATED if suffix in _DEFLATED_SUFFIXES else zipfile.ZIP_STORED


async def zip_stream(
    entries: AsyncIterable[tuple[str, Content]],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    date_time: DateTime | None = None,
    force_zip64: bool = False,
) -> AsyncGenerator[bytes, None]:
    """Yield a ZIP archive of ``entries`` in chunks, as the entries arrive.

    Each entry is ``(name, content)``; content is bytes or an async iterable of bytes pieces. Names are
    checked with :func:`validate_entry_name` (and must be unique) when their entry arrives, raising
    ValueError mid-stream. A chunk is yielded whenever ``chunk_size`` bytes are pending and at the end
    of each entry, so the client has every finished entry while the next one is still being produced.

    ZIP64 records are written where needed: for bytes entries the size is known before the header, so
    zipfile decides per entry; the archive's own offsets and entry count switch to ZIP64 by themselves.
    A streamed entry's size is unknown when its header is written, so it can only exceed 2 GiB when
    ``force_zip64`` is set (a ZIP64 header for every streamed entry, which a few old unzip tools do
    not read — hence off by default; image exports are far below the limit). ``date_time`` stamps
    every entry (default: now, UTC).
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    stamp = date_time or _now()
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", allowZip64=True)
    seen: set[str] = set()
    finished = False
    try:
        async for name, content in entries:
            validate_entry_name(name)
            if name in seen:
                raise ValueError(f"duplicate entry name {name!r}")
            seen.add(name)
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = compression_for(name)
            info.external_attr = 0o644 << 16  # a plain readable file when extracted on Unix
            if isinstance(content, bytes | bytearray | memoryview):
                view = memoryview(content).cast("B")
                info.file_size = len(view)  # lets zipfile pick ZIP64 for this entry only if needed
                with archive.open(info, mode="w") as handle:
                    for start in range(0, len(view), chunk_size):
                        handle.write(view[start : start + chunk_size])
                        if sink.pending >= chunk_size:
                            yield sink.take()
            else:
                with archive.open(info, mode="w", force_zip64=force_zip64) as handle:
                    async for piece in content:
                        handle.write(piece)
                        if sink.pending >= chunk_size:
                            yield sink.take()
            if sink.pending:
                yield sink.take()
        archive.close()
        finished = True
        if sink.pending:
            yield sink.take()
    finally:
        if not finished:
            # Abandoned or failed: whatever zipfile still writes goes nowhere, and closing it here
            # keeps its finaliser from complaining later. The original error is what matters.
            sink.discard()
            with contextlib.suppress(Exception):
                archive.close()


def _now() -> DateTime:
    now = datetime.now(tz=UTC)
    # ZIP (DOS) timestamps cannot go below 1980 and have no time zone; UTC keeps them machine-independent.
    return (max(now.year, 1980), now.month, now.day, now.hour, now.minute, now.second)
