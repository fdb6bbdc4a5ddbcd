"""Build the s3 storage backend from the storage settings."""

from __future__ import annotations

from posegen.config import StorageSettings
from posegen.storage.s3 import S3Storage


def create_s3_storage(settings: StorageSettings) -> S3Storage:
    """The `S3Storage` that `settings` describe; `ValueError` when they are incomplete.

    Empty strings count as unset, so `POSEGEN_STORAGE_S3_ENDPOINT_URL=` means AWS.
    """
    if not settings.s3_bucket:
        raise ValueError("POSEGEN_STORAGE_S3_BUCKET is required when POSEGEN_STORAGE_BACKEND is s3")
    key_id = settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    if bool(key_id) != bool(secret):
        raise ValueError(
            "set both POSEGEN_STORAGE_S3_ACCESS_KEY_ID and POSEGEN_STORAGE_S3_SECRET_ACCESS_KEY, or neither"
        )
    return S3Storage(
        settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url or None,
        region=settings.s3_region,
        access_key_id=key_id or None,
        secret_access_key=secret or None,
        url_ttl_seconds=settings.url_ttl_seconds,
    )
