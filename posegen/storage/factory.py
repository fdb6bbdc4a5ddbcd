"""Build the configured storage backend once, at start-up."""

from __future__ import annotations

from posegen.auth.tokens import resolve_secret
from posegen.config import Settings
from posegen.storage.base import Storage
from posegen.storage.local import LocalStorage
from posegen.storage.s3_factory import create_s3_storage
from posegen.storage.signing import UrlSigner, derive_secret


def url_signer(settings: Settings) -> UrlSigner:
    configured = settings.storage.signing_secret
    secret = (
        configured.get_secret_value().encode()
        if configured is not None
        else derive_secret(resolve_secret(settings), "file-urls")
    )
    return UrlSigner(secret, settings.storage.url_ttl_seconds)


def create_storage(settings: Settings) -> Storage:
    """The storage backend named in settings."""
    if settings.storage.backend == "s3":
        return create_s3_storage(settings.storage)
    return LocalStorage(settings.storage_root, url_signer(settings))
