"""HMAC-signed, expiring URLs for files served by posegen itself.

Expiry times are rounded up to a bucket, so the URL of a file stays the same
for a while and browsers can cache it.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import time
from urllib.parse import quote

from posegen.errors import Forbidden

FILES_PATH = "/api/apps/pose-generator/files/"
_EXPIRY = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")


class UrlSigner:
    def __init__(self, secret: bytes, ttl_seconds: int, bucket_seconds: int = 300) -> None:
        self._secret = secret
        self._ttl = ttl_seconds
        self._bucket = max(1, min(bucket_seconds, ttl_seconds))

    def _signature(self, key: str, expires: int, name: str | None) -> str:
        # The download name is signed too, so a link cannot be edited to serve a file under another
        # name; links without one sign exactly what they always did.
        message = f"{key}\n{expires}" if name is None else f"{key}\n{expires}\n{name}"
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def sign(self, key: str, now: float | None = None, name: str | None = None) -> str:
        """`/api/apps/pose-generator/files/{key}?exp=…[&name=…]&sig=…`, valid for at least the TTL."""
        moment = time.time() if now is None else now
        expires = math.ceil((moment + self._ttl) / self._bucket) * self._bucket
        named = "" if name is None else f"&name={quote(name)}"
        return f"{FILES_PATH}{quote(key)}?exp={expires}{named}&sig={self._signature(key, expires, name)}"

    def verify(
        self, key: str, expires: int, signature: str, now: float | None = None, name: str | None = None
    ) -> None:
        """`Forbidden` unless the signature is ours for this key (and name) and has not expired."""
        moment = time.time() if now is None else now
        if not hmac.compare_digest(self._signature(key, expires, name), signature):
            raise Forbidden("Invalid file link: the signature does not match")
        if expires < moment:
            raise Forbidden(
                "This file link has expired; fetch the resource again for a fresh link",
                details={"expiredAt": expires},
            )

    def verify_query(
        self,
        key: str,
        exp: str | None,
        sig: str | None,
        now: float | None = None,
        name: str | None = None,
    ) -> None:
        """`verify` for the raw `exp` and `sig` of a URL: missing or malformed parts are 403 too.

        A link is a credential, so every way it can be wrong answers alike (403),
        never 400 as if the client had made a typing mistake.
        """
        if not exp or not sig:
            raise Forbidden("Invalid file link: it lacks its expiry or signature")
        if not _EXPIRY.fullmatch(exp) or not _SIGNATURE.fullmatch(sig):
            raise Forbidden("Invalid file link: malformed expiry or signature")
        self.verify(key, int(exp), sig, now, name)


def derive_secret(master: str, purpose: str) -> bytes:
    """A key for one purpose derived from the service secret, so one leak does not open the other."""
    return hmac.new(master.encode(), f"posegen:{purpose}".encode(), hashlib.sha256).digest()
