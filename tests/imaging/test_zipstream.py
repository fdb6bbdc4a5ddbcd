"""Streaming ZIP: round trip through zipfile, chunking as entries arrive, name checks, ZIP64."""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import AsyncIterator, Sequence

import pytest

from posegen.imaging.zipstream import Content, compression_for, validate_entry_name, zip_stream

STAMP = (2024, 5, 17, 12, 30, 44)


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def entries_of(items: Sequence[tuple[str, Content]]) -> AsyncIterator[tuple[str, Content]]:
    for item in items:
        yield item


async def collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


def read_back(chunks: Sequence[bytes]) -> zipfile.ZipFile:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    return archive


async def test_round_trip_of_bytes_and_streamed_entries() -> None:
    jpeg = os.urandom(300_000)
    png = os.urandom(70_000)
    manifest = b'{"poses": ["a", "b"]}' * 50
    chunks = await collect(
        zip_stream(
            entries_of(
                [
                    ("exports/instagram_feed.jpg", jpeg),
                    ("exports/print_a4.png", pieces(png, 4096)),
                    ("manifest.json", manifest),
                    ("empty.txt", b""),
                ]
            ),
            date_time=STAMP,
        )
    )
    archive = read_back(chunks)
    assert archive.namelist() == [
        "exports/instagram_feed.jpg",
        "exports/print_a4.png",
        "manifest.json",
        "empty.txt",
    ]
    assert archive.read("exports/instagram_feed.jpg") == jpeg
    assert archive.read("exports/print_a4.png") == png
    assert archive.read("manifest.json") == manifest
    assert archive.read("empty.txt") == b""
    info = archive.getinfo("exports/instagram_feed.jpg")
    assert info.compress_type == zipfile.ZIP_STORED
    assert info.date_time == STAMP
    assert archive.getinfo("manifest.json").compress_type == zipfile.ZIP_DEFLATED


async def test_an_empty_archive_is_valid() -> None:
    archive = read_back(await collect(zip_stream(entries_of([]))))
    assert archive.namelist() == []


async def test_bytes_are_yielded_before_the_next_entry_is_requested() -> None:
    requested: list[int] = []
    seen_at_first_chunk: list[int] = []

    async def slow_entries() -> AsyncIterator[tuple[str, Content]]:
        for index in range(5):
            requested.append(index)
            yield (f"pose-{index}.jpg", bytes([index]) * 10_000)

    chunks: list[bytes] = []
    async for chunk in zip_stream(slow_entries()):
        if not chunks:
            seen_at_first_chunk.extend(requested)
        chunks.append(chunk)
    assert seen_at_first_chunk == [0]  # the first entry went out before the second was produced
    archive = read_back(chunks)
    assert [archive.read(f"pose-{i}.jpg") for i in range(5)] == [bytes([i]) * 10_000 for i in range(5)]


async def test_memory_stays_bounded_by_the_chunk_size() -> None:
    chunk_size, piece = 256 * 1024, 64 * 1024
    big = os.urandom(8 * 1024 * 1024)
    consumed = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal consumed
        async for part in pieces(big, piece):
            consumed += len(part)
            yield part

    chunks: list[bytes] = []
    async for chunk in zip_stream(entries_of([("big.png", counted())]), chunk_size=chunk_size):
        # Never more than one chunk plus one piece is held back; output keeps pace with input.
        assert len(chunk) <= chunk_size + piece + 1024
        if not chunks:
            assert consumed < len(big) // 4
        chunks.append(chunk)
    assert len(chunks) >= len(big) // (chunk_size + piece)
    assert read_back(chunks).read("big.png") == big

    bytes_chunks = await collect(zip_stream(entries_of([("big.jpg", big)]), chunk_size=chunk_size))
    assert max(len(chunk) for chunk in bytes_chunks) <= chunk_size + 1024
    assert read_back(bytes_chunks).read("big.jpg") == big


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/etc/passwd",
        "../escape.jpg",
        "exports/../../escape.jpg",
        "exports/..",
        "./a.jpg",
        "a//b.jpg",
        "folder/",
        "C:/Windows/a.jpg",
        "c:a.jpg",
        "exports\\a.jpg",
        "bad\x00name.jpg",
        "line\nbreak.jpg",
    ],
)
async def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="entry name"):
        validate_entry_name(name)
    with pytest.raises(ValueError, match="entry name"):
        await collect(zip_stream(entries_of([("ok.jpg", b"x"), (name, b"y")])))


@pytest.mark.parametrize(
    "name", ["a.jpg", "exports/pose 1/instagram_feed.jpg", "ünïcode/名前.png", "a..b.jpg"]
)
def test_safe_names_pass(name: str) -> None:
    assert validate_entry_name(name) == name


async def test_duplicate_names_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        await collect(zip_stream(entries_of([("a.jpg", b"1"), ("a.jpg", b"2")])))


async def test_an_abandoned_stream_closes_quietly() -> None:
    stream = zip_stream(
        entries_of([("a.png", pieces(os.urandom(50_000), 1000)), ("b.jpg", b"x")]), chunk_size=4096
    )
    first = await anext(stream)
    assert first
    await stream.aclose()  # pytest turns an unraisable exception from a finaliser into an error


async def test_a_failing_entry_propagates() -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"start"
        raise OSError("storage went away")

    with pytest.raises(OSError, match="storage went away"):
        await collect(zip_stream(entries_of([("a.png", broken())])))


def test_compression_choice() -> None:
    assert compression_for("a/b.JPG") == zipfile.ZIP_STORED
    assert compression_for("a/b.webp") == zipfile.ZIP_STORED
    assert compression_for("noext") == zipfile.ZIP_STORED
    assert compression_for("dir.json/file") == zipfile.ZIP_STORED
    assert compression_for("manifest.json") == zipfile.ZIP_DEFLATED


async def test_zip64_is_written_when_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    # Lowering zipfile's limit makes a few kilobytes behave like gigabytes on both sides.
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 4096)
    big, small = os.urandom(10_000), os.urandom(100)
    chunks = await collect(
        zip_stream(
            entries_of([("small.jpg", small), ("big.jpg", big), ("streamed.png", pieces(big, 3000))]),
            force_zip64=True,
        )
    )
    data = b"".join(chunks)
    assert b"PK\x06\x06" in data  # the ZIP64 end of central directory record
    archive = read_back(chunks)
    assert archive.read("small.jpg") == small
    assert archive.read("big.jpg") == big
    assert archive.read("streamed.png") == big


async def test_a_big_streamed_entry_needs_force_zip64(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 4096)
    with pytest.raises(RuntimeError, match="force_zip64"):
        await collect(zip_stream(entries_of([("streamed.png", pieces(os.urandom(10_000), 3000))])))
