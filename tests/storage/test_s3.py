"""S3 storage against a real S3 API server on loopback (moto in server mode).

moto speaks the S3 REST protocol over HTTP, so these tests exercise the whole
client path: signing, addressing, retries, error parsing and streaming bodies.
One thing moto does not do is check the signature of presigned URLs (it serves
a tampered URL as readily as a good one), so the presigned-URL test checks the
signature with an independent SigV4 implementation written from AWS's spec.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from posegen.config import StorageSettings
from posegen.errors import ValidationFailed
from posegen.storage.base import FileMissing, Storage
from posegen.storage.s3 import S3Storage
from posegen.storage.s3_factory import create_s3_storage

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

pytestmark = pytest.mark.slow

BUCKET = "posegen-test"
KEY_ID = "AKIDPOSEGENTEST"
SECRET = "posegen-test-secret-access-key"
REGION: Final = "eu-west-1"  # Final keeps the literal type the stubs ask for


@pytest.fixture(scope="session")
def endpoint() -> Iterator[str]:
    """A moto S3 server on a free loopback port, for the whole session."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def raw(endpoint: str) -> AsyncIterator[S3Client]:
    """A plain client to set up the bucket and look behind the storage's back."""
    async with get_session().create_client(
        "s3",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    ) as client:
        await client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        yield client


def _storage(endpoint: str, **options: Any) -> S3Storage:
    return S3Storage(
        BUCKET,
        endpoint_url=endpoint,
        region=REGION,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        **options,
    )


@pytest.fixture(scope="session")
async def storage(endpoint: str, raw: S3Client) -> AsyncIterator[S3Storage]:
    """One storage for the tests that do not change its configuration or state."""
    store = _storage(endpoint, url_ttl_seconds=600)
    yield store
    await store.aclose()


def _key(name: str) -> str:
    # Every test writes under its own directory, so the session's bucket is shared safely.
    return f"t/{uuid.uuid4().hex}/{name}"


async def test_put_get_round_trip_of_binary(storage: S3Storage) -> None:
    data = os.urandom(2 * 1024 * 1024)
    key = _key("image.png")
    await storage.put(key, data, "image/png")
    assert await storage.get(key) == data


async def test_content_type_is_stored(storage: S3Storage, raw: S3Client) -> None:
    explicit, guessed, unknown = _key("a.bin"), _key("b.json"), _key("c.unknownext")
    await storage.put(explicit, b"x", "image/webp")
    await storage.put(guessed, b"{}")
    await storage.put(unknown, b"x")
    types = [
        (await raw.head_object(Bucket=BUCKET, Key=k))["ContentType"] for k in (explicit, guessed, unknown)
    ]
    assert types == ["image/webp", "application/json", "application/octet-stream"]


async def test_stream_yields_bounded_chunks_of_the_object(storage: S3Storage) -> None:
    data = os.urandom(1024 * 1024 + 123)
    key = _key("big.bin")
    await storage.put(key, data)
    chunks = [chunk async for chunk in storage.stream(key, chunk_size=64 * 1024)]
    assert b"".join(chunks) == data
    assert len(chunks) >= 17
    assert all(0 < len(chunk) <= 64 * 1024 for chunk in chunks)


async def test_stream_of_missing_key_fails_before_the_first_chunk(storage: S3Storage) -> None:
    chunks = storage.stream(_key("missing.bin"))
    with pytest.raises(FileMissing):
        await anext(chunks)


async def test_stream_stopped_early_releases_the_response(storage: S3Storage) -> None:
    key = _key("early.bin")
    await storage.put(key, os.urandom(512 * 1024))
    chunks = storage.stream(key, chunk_size=1024)
    assert len(await anext(chunks)) <= 1024
    await chunks.aclose()  # must not hang or leak; the storage stays usable
    assert await storage.exists(key)


async def test_exists_delete_and_missing_get(storage: S3Storage) -> None:
    key = _key("gone.txt")
    assert not await storage.exists(key)
    await storage.put(key, b"bye")
    assert await storage.exists(key)
    await storage.delete(key)
    await storage.delete(key)  # idempotent
    assert not await storage.exists(key)
    with pytest.raises(FileMissing):
        await storage.get(key)


async def test_put_replaces_whole_object(storage: S3Storage) -> None:
    key = _key("a.txt")
    await storage.put(key, b"long old content")
    await storage.put(key, b"new")
    assert await storage.get(key) == b"new"


@pytest.mark.parametrize("key", ["../etc/passwd", "a//b", "/abs", "a/./b", "", "a b", "a/", "x" * 513])
async def test_unsafe_keys_are_refused_before_any_request(storage: S3Storage, key: str) -> None:
    with pytest.raises(ValidationFailed):
        await storage.put(key, b"x")
    with pytest.raises(ValidationFailed):
        await storage.get(key)
    with pytest.raises(ValidationFailed):
        await anext(storage.stream(key))
    with pytest.raises(ValidationFailed):
        await storage.exists(key)
    with pytest.raises(ValidationFailed):
        await storage.delete(key)
    with pytest.raises(ValidationFailed):
        storage.url(key)


async def test_prefix_places_objects_under_it(endpoint: str, raw: S3Client) -> None:
    store = _storage(endpoint, prefix="/tenant/a/")
    try:
        key = _key("p.txt")
        await store.put(key, b"prefixed")
        stored = await raw.get_object(Bucket=BUCKET, Key=f"tenant/a/{key}")
        async with stored["Body"] as body:
            assert await body.read() == b"prefixed"
        with pytest.raises(ClientError):
            await raw.head_object(Bucket=BUCKET, Key=key)
        assert await store.get(key) == b"prefixed"
        assert f"/{BUCKET}/tenant/a/{key}?" in store.url(key)
    finally:
        await store.aclose()


@pytest.mark.parametrize("prefix", ["../up", "a//b", "a b/"])
def test_unsafe_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        _storage("http://127.0.0.1:9", prefix=prefix)


# -- presigned URLs ---------------------------------------------------------------------------


def _sigv4_query_signature(url: str, secret: str) -> str:
    """The SigV4 signature a presigned GET `url` should carry, computed from AWS's spec.

    Written independently of botocore: canonical request → string to sign →
    derived key (docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
    """
    parts = urlsplit(url)
    params = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "X-Amz-Signature"]
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params))
    query = dict(params)
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = query["X-Amz-Credential"].split("/", 1)[1]
    date, region, service, _ = scope.split("/")
    to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            query["X-Amz-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    signing_key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        signing_key = hmac.new(signing_key, part.encode(), hashlib.sha256).digest()
    return hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()


async def test_presigned_url_downloads_and_is_signed_correctly(storage: S3Storage) -> None:
    data = os.urandom(300 * 1024)
    key = _key("preview.png")
    await storage.put(key, data, "image/png")
    url = storage.url(key)

    async with httpx.AsyncClient() as http:
        response = await http.get(url)  # a plain GET, as a browser's <img src> would send
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "image/png"

    query = dict(parse_qsl(urlsplit(url).query))
    assert query["X-Amz-Expires"] == "600"
    assert (
        query["X-Amz-Credential"].startswith(f"{KEY_ID}/") and f"/{REGION}/s3/" in query["X-Amz-Credential"]
    )
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs(signed_at.timestamp() - time.time()) < 60
    assert hmac.compare_digest(query["X-Amz-Signature"], _sigv4_query_signature(url, SECRET))

    # Any change to what was signed (the key, the lifetime) or a wrong secret breaks the signature.
    other = url.replace("preview.png", "other.png")
    longer = url.replace("X-Amz-Expires=600", "X-Amz-Expires=604800")
    assert _sigv4_query_signature(other, SECRET) != query["X-Amz-Signature"]
    assert _sigv4_query_signature(longer, SECRET) != query["X-Amz-Signature"]
    assert _sigv4_query_signature(url, SECRET + "x") != query["X-Amz-Signature"]


async def test_a_presigned_url_with_a_download_name_is_served_under_it(storage: S3Storage) -> None:
    key = _key("instagram_feed.jpg")
    await storage.put(key, b"\xff\xd8\xff-a-jpeg", "image/jpeg")
    url = storage.url(key, "arms-crossed-v1-instagram_feed.jpg")
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == 'inline; filename="arms-crossed-v1-instagram_feed.jpg"'
    # The disposition is part of what was signed.
    renamed = url.replace("arms-crossed", "evil")
    assert _sigv4_query_signature(renamed, SECRET) != dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    with pytest.raises(ValidationFailed):
        storage.url(key, "../x.jpg")


def test_satisfies_the_storage_protocol() -> None:
    store: Storage = _storage("http://127.0.0.1:9")  # mypy checks the assignment
    assert isinstance(store, S3Storage)


def test_url_is_computed_without_network_io() -> None:
    # Port 9 (discard) on loopback: nothing answers there; signing must not try.
    store = _storage("http://127.0.0.1:9", url_ttl_seconds=3600)
    started = time.perf_counter()
    url = store.url("lib/pose/preview.png")
    assert time.perf_counter() - started < 0.5
    assert url.startswith(f"http://127.0.0.1:9/{BUCKET}/lib/pose/preview.png?")
    assert "X-Amz-Expires=3600" in url


# -- the lazily created client ------------------------------------------------------------------


async def test_client_is_created_once_under_concurrency_and_reopens_after_close(
    endpoint: str, raw: S3Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _storage(endpoint)
    created = 0
    create_client = store._session.create_client

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal created
        created += 1
        return create_client(*args, **kwargs)

    monkeypatch.setattr(store._session, "create_client", counting)
    key = _key("c.txt")
    results = await asyncio.gather(*(store.exists(key) for _ in range(20)))
    assert results == [False] * 20
    assert created == 1
    await store.aclose()
    await store.aclose()  # closing twice is harmless
    await store.put(key, b"again")
    assert await store.get(key) == b"again"
    assert created == 2
    await store.aclose()


# -- retries through a flaky loopback proxy -----------------------------------------------------


@dataclass
class FlakyProxy:
    """An HTTP/1.1 proxy to moto that fails the first `failures` requests it sees.

    `mode` "503" answers like an overloaded S3 (`ServiceUnavailable`), "slowdown"
    like a throttling one, "drop" closes the connection without answering.
    """

    upstream: str
    mode: str = "503"
    failures: int = 1
    requests: list[str] = field(default_factory=list)
    url: str = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with httpx.AsyncClient(base_url=self.upstream) as upstream:
                while True:
                    try:
                        head = await reader.readuntil(b"\r\n\r\n")
                    except asyncio.IncompleteReadError:
                        return
                    request_line, *header_lines = head.decode("latin-1").split("\r\n")[:-2]
                    method, target, _ = request_line.split(" ", 2)
                    headers = [tuple(line.split(": ", 1)) for line in header_lines]
                    length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
                    body = await reader.readexactly(length)
                    self.requests.append(method)
                    if len(self.requests) <= self.failures:
                        if self.mode == "drop":
                            return
                        code = "SlowDown" if self.mode == "slowdown" else "ServiceUnavailable"
                        payload = f"<Error><Code>{code}</Code><Message>try again</Message></Error>".encode()
                        writer.write(
                            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\n"
                            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                            + (b"" if method == "HEAD" else payload)
                        )
                        await writer.drain()
                        continue
                    forwarded = [(k, v) for k, v in headers if k.lower() not in {"host", "connection"}]
                    response = await upstream.send(
                        upstream.build_request(method, target, headers=forwarded, content=body),
                        stream=True,
                    )
                    raw_body = b"".join([chunk async for chunk in response.aiter_raw()])
                    await response.aclose()
                    out = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
                    for k, v in response.headers.multi_items():
                        if k.lower() not in {"transfer-encoding", "connection", "content-length"}:
                            out.append(f"{k}: {v}")
                    # HEAD keeps the object's length but carries no body.
                    size = response.headers.get("content-length", "0") if method == "HEAD" else len(raw_body)
                    out.append(f"Content-Length: {size}")
                    writer.write("\r\n".join(out).encode("latin-1") + b"\r\n\r\n")
                    if method != "HEAD":
                        writer.write(raw_body)
                    await writer.drain()
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FlakyProxy]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()


@pytest.mark.parametrize("mode", ["503", "slowdown", "drop"])
async def test_transient_failure_is_retried(endpoint: str, storage: S3Storage, mode: str) -> None:
    key = _key("retry.bin")
    await storage.put(key, b"survives a hiccup")
    async with FlakyProxy(endpoint, mode=mode, failures=1).running() as proxy:
        store = _storage(proxy.url)
        try:
            assert await store.get(key) == b"survives a hiccup"
        finally:
            await store.aclose()
    assert proxy.requests == ["GET", "GET"]


async def test_retries_stop_after_max_attempts(endpoint: str, storage: S3Storage) -> None:
    key = _key("down.bin")
    await storage.put(key, b"unreachable")
    async with FlakyProxy(endpoint, mode="503", failures=100).running() as proxy:
        store = _storage(proxy.url, max_attempts=2)  # two, not four: each retry waits up to 2^n s
        try:
            with pytest.raises(ClientError) as caught:
                await store.exists(key)
        finally:
            await store.aclose()
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert proxy.requests == ["HEAD", "HEAD"]  # max_attempts counts the first try


async def test_default_retry_configuration(storage: S3Storage) -> None:
    client = await storage._s3()
    config = vars(client.meta.config)  # the stubs do not list Config's option attributes
    assert config["retries"] == {"mode": "standard", "total_max_attempts": 4}
    assert (config["connect_timeout"], config["read_timeout"]) == (5.0, 30.0)
    assert config["s3"] == {"addressing_style": "path"}  # an endpoint URL implies path style


# -- the factory -------------------------------------------------------------------------------


async def test_factory_builds_a_working_storage(endpoint: str, raw: S3Client) -> None:
    settings = StorageSettings(
        backend="s3",
        s3_bucket=BUCKET,
        s3_prefix="fact/",
        s3_endpoint_url=endpoint,
        s3_region=REGION,
        s3_access_key_id=SecretStr(KEY_ID),
        s3_secret_access_key=SecretStr(SECRET),
        url_ttl_seconds=120,
    )
    store = create_s3_storage(settings)
    try:
        key = _key("f.txt")
        await store.put(key, b"from settings")
        assert (await raw.head_object(Bucket=BUCKET, Key=f"fact/{key}"))["ContentLength"] == 13
        assert "X-Amz-Expires=120" in store.url(key)
    finally:
        await store.aclose()


def test_factory_refuses_incomplete_settings() -> None:
    with pytest.raises(ValueError, match="BUCKET"):
        create_s3_storage(StorageSettings(backend="s3"))
    with pytest.raises(ValueError, match="SECRET_ACCESS_KEY"):
        create_s3_storage(StorageSettings(backend="s3", s3_bucket=BUCKET, s3_access_key_id=SecretStr(KEY_ID)))
