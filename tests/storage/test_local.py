"""Local storage: confined keys, atomic writes, signed expiring URLs served by the API."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from posegen.errors import Forbidden, ValidationFailed
from posegen.storage.base import FileMissing, validate_key
from posegen.storage.local import LocalStorage
from posegen.storage.signing import UrlSigner

SIGNER = UrlSigner(b"k" * 32, ttl_seconds=600)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files", SIGNER)


@pytest.mark.parametrize(
    "key",
    [
        "../etc/passwd",
        "a/../../b",
        "/abs/path",
        "a//b",
        "a/./b",
        "",
        "a\\b",
        "a b",
        "%2e%2e/x",
        "a/",
        ".",
        "x" * 513,
    ],
)
def test_unsafe_keys_are_refused(key: str) -> None:
    with pytest.raises(ValidationFailed):
        validate_key(key)


async def test_put_get_stream_exists_delete(storage: LocalStorage) -> None:
    data = bytes(range(256)) * 5000
    await storage.put("gen/abc/image.png", data, "image/png")
    assert await storage.exists("gen/abc/image.png")
    assert await storage.get("gen/abc/image.png") == data
    chunks = [chunk async for chunk in storage.stream("gen/abc/image.png", chunk_size=100_000)]
    assert len(chunks) == 13
    assert b"".join(chunks) == data
    assert not [p for p in (storage.root / "gen/abc").iterdir() if p.name.startswith(".part-")]
    await storage.delete("gen/abc/image.png")
    await storage.delete("gen/abc/image.png")
    assert not await storage.exists("gen/abc/image.png")
    with pytest.raises(FileMissing):
        await storage.get("gen/abc/image.png")


async def test_put_replaces_whole_file(storage: LocalStorage) -> None:
    await storage.put("a.txt", b"long old content")
    await storage.put("a.txt", b"new")
    assert await storage.get("a.txt") == b"new"


def test_signed_url_verifies_and_expires() -> None:
    url = SIGNER.sign("lib/pose/preview.png", now=1_000_000)
    query = parse_qs(urlsplit(url).query)
    expires, signature = int(query["exp"][0]), query["sig"][0]
    assert expires >= 1_000_600
    SIGNER.verify("lib/pose/preview.png", expires, signature, now=1_000_100)
    with pytest.raises(Forbidden, match="Invalid"):
        SIGNER.verify("lib/pose/other.png", expires, signature, now=1_000_100)
    with pytest.raises(Forbidden, match="Invalid"):
        SIGNER.verify("lib/pose/preview.png", expires + 1, signature, now=1_000_100)
    with pytest.raises(Forbidden, match="expired"):
        SIGNER.verify("lib/pose/preview.png", expires, signature, now=expires + 1)
    assert SIGNER.sign("lib/pose/preview.png", now=1_000_001) == url  # stable within a bucket


async def test_files_endpoint_serves_signed_urls_only(client: httpx.AsyncClient, app: object) -> None:
    storage = app.state.services.storage  # type: ignore[attr-defined]  # FastAPI state is untyped
    await storage.put("library/x/thumb.webp", b"RIFFxxxxWEBP")
    url = storage.url("library/x/thumb.webp")
    response = await client.get(url)
    assert response.status_code == 200
    assert response.content == b"RIFFxxxxWEBP"
    assert response.headers["content-type"] == "image/webp"

    tampered = url.replace("sig=", "sig=0")[:-1]
    assert (await client.get(tampered)).status_code == 403
    other_key = url.replace("thumb.webp", "other.webp")
    forbidden = await client.get(other_key)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "FORBIDDEN"
    path, _, query = url.partition("?")
    params = parse_qs(query)
    expired = await client.get(path, params={"exp": "1000", "sig": params["sig"][0]})
    assert expired.status_code == 403
    # A link without its signature is as bad as a tampered one: 403, never 400.
    assert (await client.get(path)).status_code == 403
    assert (await client.get(path.replace("thumb.webp", "..%2F..%2Fsecret"), params=params)).status_code in (
        400,
        403,
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Invalid file link: it lacks its expiry or signature"),
        ({"exp": "KEEP"}, "Invalid file link: it lacks its expiry or signature"),
        ({"sig": "KEEP"}, "Invalid file link: it lacks its expiry or signature"),
        ({"exp": "KEEP", "sig": "zz"}, "Invalid file link: malformed expiry or signature"),
        ({"exp": "soon", "sig": "KEEP"}, "Invalid file link: malformed expiry or signature"),
        ({"exp": "KEEP", "sig": "0" * 64}, "Invalid file link: the signature does not match"),
    ],
)
async def test_a_bad_file_link_is_403_in_words(
    client: httpx.AsyncClient, app: object, query: dict[str, str], message: str
) -> None:
    storage = app.state.services.storage  # type: ignore[attr-defined]  # FastAPI state is untyped
    await storage.put("library/x/thumb.webp", b"RIFFxxxxWEBP")
    path, _, signed = storage.url("library/x/thumb.webp").partition("?")
    good = {key: values[0] for key, values in parse_qs(signed).items()}
    params = {key: good[key] if value == "KEEP" else value for key, value in query.items()}
    response = await client.get(path, params=params)
    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "FORBIDDEN",
        "message": message,
        "statusCode": 403,
        "details": None,
        "field": None,
    }


async def test_an_expired_file_link_says_it_expired(client: httpx.AsyncClient, app: object) -> None:
    state = app.state.services  # type: ignore[attr-defined]  # FastAPI state is untyped
    await state.storage.put("library/x/thumb.webp", b"RIFFxxxxWEBP")
    # Signed correctly, a day ago, with the app's own signer: only the time is wrong.
    url = state.url_signer.sign("library/x/thumb.webp", now=time.time() - 86_400 - 3_600)
    response = await client.get(url)
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["message"] == "This file link has expired; fetch the resource again for a fresh link"
    assert error["details"]["expiredAt"] < time.time()


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00rest-of-a-jpeg"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR-rest"


async def test_a_named_link_gives_the_type_from_the_extension_and_the_download_name(
    client: httpx.AsyncClient, app: object
) -> None:
    storage = app.state.services.storage  # type: ignore[attr-defined]  # FastAPI state is untyped
    await storage.put("gen/g1/p1-c1/instagram_feed.jpg", JPEG_BYTES)
    url = storage.url("gen/g1/p1-c1/instagram_feed.jpg", "arms-crossed-v1-instagram_feed.jpg")
    assert urlsplit(url).path.endswith(".jpg")
    response = await client.get(url)
    assert response.status_code == 200 and response.content == JPEG_BYTES
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == 'inline; filename="arms-crossed-v1-instagram_feed.jpg"'
    # The name is signed: a link edited to save the file under another name is refused.
    renamed = url.replace("name=arms-crossed", "name=evil")
    assert (await client.get(renamed)).status_code == 403
    unnamed = await client.get(storage.url("gen/g1/p1-c1/instagram_feed.jpg"))
    assert unnamed.headers["content-disposition"] == 'inline; filename="instagram_feed.jpg"'


@pytest.mark.parametrize(
    ("data", "content_type", "filename"),
    [
        (JPEG_BYTES, "image/jpeg", "instagram_feed.jpg"),
        (PNG_BYTES, "image/png", "instagram_feed.png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 rest", "image/webp", "instagram_feed.webp"),
        (b"not an image at all", "application/octet-stream", "instagram_feed"),
        (b"", "application/octet-stream", "instagram_feed"),
    ],
)
async def test_a_key_without_an_extension_is_served_as_its_bytes_say(
    client: httpx.AsyncClient, app: object, data: bytes, content_type: str, filename: str
) -> None:
    storage = app.state.services.storage  # type: ignore[attr-defined]  # FastAPI state is untyped
    await storage.put("gen/g2/p2-c2/instagram_feed", data)  # stored before keys had extensions
    response = await client.get(storage.url("gen/g2/p2-c2/instagram_feed"))
    assert response.status_code == 200 and response.content == data
    assert response.headers["content-type"] == content_type
    assert response.headers["content-disposition"] == f'inline; filename="{filename}"'


@pytest.mark.parametrize("name", ["../x.png", 'a".png', "a b.png", "", "a/b.png", "x" * 201])
def test_an_unsafe_download_name_is_refused(storage: LocalStorage, name: str) -> None:
    with pytest.raises(ValidationFailed):
        storage.url("gen/a/image.png", name)
