"""Where state lives: the database, file storage and Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class DatabaseSettings(BaseModel):
    url: str | None = Field(
        None,
        description=(
            "SQLAlchemy URL (`postgresql://…` or `sqlite:///…`); "
            "empty means a SQLite file `posegen.db` in the data directory."
        ),
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connections kept per process.")
    busy_timeout_ms: int = Field(
        15000, ge=0, description="How long a SQLite writer waits for the write lock before failing."
    )
    lock_timeout_ms: int = Field(
        5000,
        ge=0,
        description=(
            "How long a PostgreSQL statement waits for a row or table lock before failing "
            "(and its unit of work is retried); 0 waits forever."
        ),
    )
    retry_attempts: int = Field(
        4,
        ge=1,
        le=20,
        description=(
            "Tries of a unit of work (request or worker step) that meets a deadlock, serialization "
            "failure, lock timeout, lost connection or locked SQLite database; a request still "
            "failing after the last answers 503."
        ),
    )


class StorageSettings(BaseModel):
    backend: Literal["local", "s3"] = Field(
        "local", description="Where files live: `local` (a directory) or `s3` (any S3-compatible service)."
    )
    root: Path | None = Field(
        None, description="Directory of the local backend; empty means `files/` in the data directory."
    )
    url_ttl_seconds: int = Field(
        3600, ge=60, le=7 * 86400, description="Minimum lifetime of a signed file URL in seconds."
    )
    signing_secret: SecretStr | None = Field(
        None,
        description="HMAC key for file URLs (at least 32 characters); empty derives one from the JWT secret.",
    )
    s3_bucket: str | None = Field(None, description="Bucket of the s3 backend.")
    s3_prefix: str = Field("", description="Key prefix inside the bucket (e.g. `posegen/`).")
    s3_endpoint_url: str | None = Field(
        None, description="S3 API endpoint for R2, MinIO and others; empty means AWS."
    )
    s3_region: str = Field("us-east-1", description="Region of the bucket.")
    s3_access_key_id: SecretStr | None = Field(
        None, description="Access key id (empty: the default AWS chain)."
    )
    s3_secret_access_key: SecretStr | None = Field(None, description="Secret access key.")


class RedisSettings(BaseModel):
    url: str | None = Field(
        None,
        description=(
            "Redis URL for cross-process events and shared rate-limit counters (scaled profile); "
            "empty keeps both in-process."
        ),
    )
    channel: str = Field("posegen:events", description="Pub/sub channel that carries generation events.")
