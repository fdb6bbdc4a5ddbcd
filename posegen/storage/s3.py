"""Files in an S3-compatible bucket: AWS S3, Cloudflare R2, MinIO (the scaled-out profile).

One `aiobotocore` client does the I/O. It is opened lazily on first use, inside
the running event loop (its HTTP session belongs to that loop), and closed by
`aclose()`. Use one instance from one event loop; a process that runs several
loops in turn (`asyncio.run` twice) must `aclose()` before its loop ends.
Retries of throttling, 5xx answers and dropped connections are the client's
own (standard mode), not loops of ours.

Browser URLs are presigned GET URLs. `Storage.url` is synchronous, so they are
signed by a plain `botocore` client made once in the constructor: presigning is
local computation, no request is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

import botocore.session
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.signers import generate_presigned_url

from posegen.errors import ValidationFailed
from posegen.storage.base import FileMissing, content_type_for, inline_disposition, validate_key

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import GetObjectOutputTypeDef

# S3 answers a missing key with NoSuchKey (GET, DELETE on some services) or a bare
# 404 (HEAD has no body, so botocore names the error after the status). NoSuchBucket
# is deliberately not here: a missing bucket is a configuration error, not a missing file.
_MISSING_CODES = frozenset({"NoSuchKey", "NotFound", "404"})

# SigV4 presigned URLs cannot outlive seven days.
MAX_URL_TTL_SECONDS = 7 * 24 * 3600


def _is_missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _MISSING_CODES


def _normalise_prefix(prefix: str) -> str:
    stripped = prefix.strip("/")
    if not stripped:
        return ""
    try:
        validate_key(stripped)
    except ValidationFailed as exc:
        raise ValueError(f"invalid S3 key prefix {prefix!r}") from exc
    return stripped + "/"


class S3Storage:
    """`Storage` on an S3-compatible bucket; keys live under an optional prefix."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        url_ttl_seconds: int = 3600,
        max_attempts: int = 4,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_pool_connections: int = 32,
    ) -> None:
        """Describe the bucket; no connection is opened until the first call.

        `endpoint_url` selects a non-AWS service (R2, MinIO) and switches to
        path-style addressing. Without explicit keys botocore's default chain
        (environment, profile, instance role) supplies credentials.
        `max_attempts` counts the first try. Raises `ValueError` for a bad prefix.
        """
        if not bucket:
            raise ValueError("an S3 bucket name is required")
        if (access_key_id is None) != (secret_access_key is None):
            raise ValueError("give both the S3 access key id and secret access key, or neither")
        if not 1 <= url_ttl_seconds <= MAX_URL_TTL_SECONDS:
            raise ValueError(f"url_ttl_seconds must be 1–{MAX_URL_TTL_SECONDS}")
        self.bucket = bucket
        self.prefix = _normalise_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        self.url_ttl_seconds = url_ttl_seconds

        config: dict[str, Any] = {
            "region_name": region,
            "signature_version": "s3v4",
            # total_max_attempts counts the first try; botocore's "max_attempts" would count retries only.
            "retries": {"mode": "standard", "total_max_attempts": max_attempts},
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "max_pool_connections": max_pool_connections,
        }
        if endpoint_url:
            # MinIO and most self-hosted services do not serve bucket subdomains.
            config["s3"] = {"addressing_style": "path"}
            # botocore (>= 1.36) adds CRC checksums to every upload by default;
            # several S3-compatible services reject or mishandle those headers.
            config["request_checksum_calculation"] = "when_required"
            config["response_checksum_validation"] = "when_required"
        self._client_args: dict[str, Any] = {
            "region_name": region,
            "endpoint_url": endpoint_url,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
        }
        self._aio_config = AioConfig(**config)
        self._session = get_session()
        self._client: S3Client | None = None
        self._stack: AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        # Signing only: it never sends a request. With explicit keys its creation does
        # no I/O; with the default chain the credentials are resolved here, once, at
        # start-up (and refreshed by botocore when temporary ones near expiry).
        self._presigner = botocore.session.get_session().create_client(
            "s3", config=Config(**config), **self._client_args
        )

    def object_key(self, key: str) -> str:
        """The bucket key that stores `key` (the prefix joined on); `ValidationFailed` if unsafe."""
        return self.prefix + validate_key(key)

    async def _s3(self) -> S3Client:
        if self._client is not None:
            return self._client
        # Many requests may arrive before the first client exists; only one creates it.
        async with self._lock:
            if self._client is None:
                stack = AsyncExitStack()
                client = await stack.enter_async_context(
                    self._session.create_client("s3", config=self._aio_config, **self._client_args)
                )
                self._client, self._stack = client, stack
            return self._client

    async def aclose(self) -> None:
        """Close the client's connections; a later call opens a new client."""
        async with self._lock:
            stack, self._client, self._stack = self._stack, None, None
            if stack is not None:
                await stack.aclose()

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store `data` under `key` (an S3 PUT replaces the whole object at once)."""
        object_key = self.object_key(key)
        client = await self._s3()
        await client.put_object(
            Bucket=self.bucket,
            Key=object_key,
            Body=data,
            ContentType=content_type or content_type_for(key),
        )

    async def _get_object(self, key: str) -> GetObjectOutputTypeDef:
        object_key = self.object_key(key)
        client = await self._s3()
        try:
            return await client.get_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if _is_missing(exc):
                raise FileMissing("File not found") from exc
            raise

    async def get(self, key: str) -> bytes:
        """The object's bytes; `FileMissing` if there is none."""
        response = await self._get_object(key)
        async with response["Body"] as body:
            return await body.read()

    async def stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncGenerator[bytes, None]:
        """The object's bytes in chunks of at most `chunk_size`; `FileMissing` before any chunk."""
        response = await self._get_object(key)
        # The context closes the HTTP response even when the consumer stops early.
        async with response["Body"] as body:
            while chunk := await body.read(chunk_size):
                yield chunk

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""
        object_key = self.object_key(key)
        client = await self._s3()
        try:
            await client.delete_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            # S3 itself answers 204 for a missing key; some compatible services say 404.
            if not _is_missing(exc):
                raise

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under `key` (a HEAD request).

        Without `s3:ListBucket` permission S3 answers 403, not 404, for a missing
        key; that surfaces as an error rather than a silent False. A missing bucket
        also answers HEAD with a bare 404, indistinguishable here, so it reads False.
        """
        object_key = self.object_key(key)
        client = await self._s3()
        try:
            await client.head_object(Bucket=self.bucket, Key=object_key)
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    def url(self, key: str, download_name: str | None = None) -> str:
        """A presigned GET URL for the object, valid for `url_ttl_seconds`; computed locally. The
        object's type comes from its stored `ContentType`; a download name is asked of S3 as the
        response's `Content-Disposition` (part of the signed request)."""
        params = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if download_name is not None:
            params["ResponseContentDisposition"] = inline_disposition(download_name)
        # botocore attaches generate_presigned_url to clients at run time, so the stubs
        # do not show it on BaseClient; the module function is the same code, typed.
        url: str = generate_presigned_url(
            self._presigner,
            ClientMethod="get_object",
            Params=params,
            ExpiresIn=self.url_ttl_seconds,
        )
        return url
