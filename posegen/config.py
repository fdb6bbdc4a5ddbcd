"""Settings: one tree of typed, described fields read from `POSEGEN_*` variables.

Groups nest with a single underscore after the group name, so
`POSEGEN_DATABASE_URL` sets `database.url` and `POSEGEN_BOOTSTRAP_ADMIN_EMAIL`
sets `bootstrap.admin_email`. Group names therefore never contain `_`.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import ip_network
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32


# Binds a browser on this machine reaches under every loopback name (all-interfaces binds included:
# this list only names them, it binds nothing).
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0", "::", "[::]", ""})  # noqa: S104
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def listening_origins(host: str, port: int) -> list[str]:
    """The origins (`http://host[:port]`) of pages served from `host:port`: every loopback name for
    a loopback or all-interfaces bind, else the host itself. Browsers omit port 80 from an origin."""
    bare = host.strip().lower()
    if bare in LOOPBACK_HOSTS or bare.startswith("127."):
        names: tuple[str, ...] = LOOPBACK_NAMES
    elif ":" in bare and not bare.startswith("["):
        names = (f"[{bare}]",)  # an IPv6 literal is bracketed in a URL
    else:
        names = (bare,)
    suffix = "" if port == 80 else f":{port}"
    return [f"http://{name}{suffix}" for name in names]


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ServerSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Interface `posegen serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port `posegen serve` listens on.")
    allowed_origins: list[str] | None = Field(
        None,
        description=(
            "Browser origins allowed by CORS and the WebSocket origin check (JSON list); empty means "
            "the origin of the address the server listens on (`localhost`, `127.0.0.1` and `[::1]` "
            "for a loopback or all-interfaces bind)."
        ),
    )
    public_docs: bool | None = Field(
        None,
        description=(
            "Serve `/docs`, `/redoc` and `/openapi.json` to anyone; empty means yes outside production "
            "and no in production (they answer 404 then)."
        ),
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest request body accepted outside upload routes; larger bodies get 413.",
    )
    max_upload_bytes: int = Field(
        10 * 1000 * 1000, ge=1024, description="Largest uploaded image file (uploads, avatars)."
    )
    max_upload_pixels: int = Field(
        40_000_000, ge=1, description="Largest uploaded image in pixels (width × height)."
    )
    max_stored_image_side: int = Field(
        2048,
        ge=64,
        le=65_535,
        description=(
            "Longest side an uploaded image (upload, avatar) is stored at; larger ones are scaled down "
            "(renders are at most 1024²)."
        ),
    )
    image_memory_budget_mb: int = Field(
        512,
        ge=16,
        le=1_048_576,
        description=(
            "Memory (MiB) that decoding and re-encoding client images may hold at once in one process; "
            "work beyond it waits."
        ),
    )
    image_memory_wait_seconds: float = Field(
        15.0,
        ge=0,
        le=300,
        description=(
            "How long image work waits for room in the memory budget before the request gets 503 "
            "with `Retry-After`."
        ),
    )


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


class AuthSettings(BaseModel):
    jwt_secret: SecretStr | None = Field(
        None,
        description=(
            "HMAC key for access tokens (at least 32 characters). Required in production; "
            "elsewhere generated once and kept in `<data dir>/jwt-secret`."
        ),
    )
    token_ttl_seconds: int = Field(
        86400, ge=60, le=30 * 86400, description="Lifetime of an access token in seconds."
    )
    issuer: str = Field("posegen", description="`iss` claim written into and required of tokens.")
    audience: str = Field("posegen-api", description="`aud` claim written into and required of tokens.")


class BootstrapSettings(BaseModel):
    admin_email: str | None = Field(
        None, description="Email of an admin account created at start-up when absent."
    )
    admin_password: SecretStr | None = Field(
        None, description="Password for the bootstrap admin (10–128 characters)."
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        if (self.admin_email is None) != (self.admin_password is None):
            raise ValueError(
                "set both POSEGEN_BOOTSTRAP_ADMIN_EMAIL and POSEGEN_BOOTSTRAP_ADMIN_PASSWORD, or neither"
            )
        if self.admin_password is not None and not 10 <= len(self.admin_password.get_secret_value()) <= 128:
            raise ValueError("POSEGEN_BOOTSTRAP_ADMIN_PASSWORD must be 10–128 characters")
        return self


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


class PricingSettings(BaseModel):
    draft: int = Field(15, ge=0, le=100_000, description="Credits per pose at quality `draft`.")
    standard: int = Field(30, ge=0, le=100_000, description="Credits per pose at quality `standard`.")
    pro: int = Field(40, ge=0, le=100_000, description="Credits per pose at quality `pro`.")
    background_surcharge: int = Field(
        10, ge=0, le=100_000, description="Credits added per pose when the background changer is on."
    )
    background_change: int = Field(
        10, ge=0, le=100_000, description="Credits for changing the background of one finished pose."
    )


class EngineSettings(BaseModel):
    default: str = Field("mannequin", description="Engine used when a request names none.")
    flux_base_url: str = Field(
        "https://api-inference.huggingface.co",
        description="Base URL of a server speaking the Hugging Face Inference protocol.",
    )
    flux_token: SecretStr | None = Field(
        None, description="API token for the FLUX endpoint; empty disables `flux`."
    )
    flux_timeout_seconds: float = Field(120.0, gt=0, le=600, description="Timeout of one FLUX request.")
    breaker_failures: int = Field(
        5, ge=1, le=1000, description="Consecutive failures that open an engine's breaker."
    )
    breaker_reset_seconds: float = Field(
        60.0, gt=0, le=3600, description="How long an open breaker stops claims before a trial call."
    )
    enable_sleep: bool = Field(
        False, description="Offer the `sleep` engine (fixed latency; tests and benchmarks only)."
    )
    sleep_latency_ms: int = Field(200, ge=0, le=60_000, description="Latency of the `sleep` engine.")


class WorkSettings(BaseModel):
    concurrency: int = Field(4, ge=1, le=256, description="Poses one worker process renders at once.")
    lease_seconds: float = Field(
        30.0, gt=0, le=3600, description="How long a claim holds a pose before it expires."
    )
    max_attempts: int = Field(3, ge=1, le=20, description="Attempts before a pose is dead-lettered.")
    poll_interval_seconds: float = Field(
        0.5, gt=0, le=60, description="How often an idle worker looks for work without a wake-up hint."
    )
    reconcile_interval_seconds: float = Field(
        15.0, gt=0, le=3600, description="How often the reconciler re-queues expired leases and finalises."
    )
    backoff_base_seconds: float = Field(
        4.0, ge=0, le=3600, description="First retry delay of a transient failure; doubles per attempt."
    )
    backoff_max_seconds: float = Field(300.0, ge=0, le=86400, description="Longest retry delay.")
    shutdown_grace_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description=(
            "At SIGTERM, how long running poses get to finish; the rest are put back in the queue at "
            "once, their attempt not counted."
        ),
    )


class CreditsSettings(BaseModel):
    signup_bonus: int = Field(
        0,
        ge=0,
        le=1_000_000,
        description="Credits a self-registered account receives once, through the ledger (kind `bonus`).",
    )


class RedisSettings(BaseModel):
    url: str | None = Field(
        None,
        description=(
            "Redis URL for cross-process events and shared rate-limit counters (scaled profile); "
            "empty keeps both in-process."
        ),
    )
    channel: str = Field("posegen:events", description="Pub/sub channel that carries generation events.")


class RealtimeSettings(BaseModel):
    auth_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="How long a new WebSocket may take to send its auth message."
    )
    queue_size: int = Field(
        256,
        ge=8,
        le=100_000,
        description="Events buffered per socket; a client that falls further behind is closed.",
    )
    fallback_poll_seconds: float = Field(
        0.5,
        gt=0,
        le=30,
        description="How often events are read from the database while Redis is unreachable.",
    )


class LimitSettings(BaseModel):
    poses_per_hour: int = Field(
        500,
        ge=1,
        le=100_000_000,
        description=(
            "Poses a user may submit per window (`poses_window_seconds`), weighted by each request's "
            "pose count; only accepted submissions count."
        ),
    )
    poses_window_seconds: int = Field(
        3600, ge=1, le=86_400, description="Window of `poses_per_hour` in seconds (tests shorten it)."
    )
    writes_per_minute: int = Field(
        60,
        ge=1,
        le=100_000_000,
        description="POST/PUT/PATCH/DELETE requests an authenticated user may make per write window.",
    )
    writes_window_seconds: int = Field(
        60, ge=1, le=86_400, description="Window of `writes_per_minute` in seconds (tests shorten it)."
    )
    auth_per_minute: int = Field(
        10,
        ge=1,
        le=100_000_000,
        description="Login and register attempts per client IP address per auth window.",
    )
    auth_window_seconds: int = Field(
        60, ge=1, le=86_400, description="Window of `auth_per_minute` in seconds (tests shorten it)."
    )
    websockets_per_user: int = Field(
        10,
        ge=1,
        le=100_000,
        description="Concurrent WebSocket connections per user; one more is closed with 4429 after auth.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or CIDR blocks of reverse proxies (JSON list). Only a request from one of them "
            "has its client address read from `X-Forwarded-For` (the rightmost untrusted entry); "
            "otherwise the socket's peer address counts."
        ),
    )

    @model_validator(mode="after")
    def _proxies_parse(self) -> Self:
        for entry in self.trusted_proxies:
            try:
                ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"POSEGEN_LIMITS_TRUSTED_PROXIES: {entry!r} is not an address or CIDR"
                ) from exc
        return self


class MetricsSettings(BaseModel):
    token: SecretStr | None = Field(
        None,
        description=(
            "Bearer token a Prometheus scraper sends to `/metrics` (at least 32 characters); "
            "empty switches the endpoint off (404)."
        ),
    )
    worker_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description=(
            "Port on which `posegen worker` serves its own `/metrics` (same token); "
            "empty serves none. `posegen worker --metrics-port` overrides it."
        ),
    )
    worker_host: str = Field("127.0.0.1", description="Interface the worker's `/metrics` listener binds to.")


class MonitoringSettings(BaseModel):
    """DATA.md's monitoring thresholds. A signal is `warn` from its warn value on and `critical`
    past its critical value; either makes `/health` report `degraded` (docs/decisions.md)."""

    queue_depth_warn: int = Field(
        100, ge=1, description="Queued and running poses from which the queue warns."
    )
    queue_depth_critical: int = Field(
        500, ge=1, description="Queued and running poses above which the queue is critical."
    )
    oldest_queued_warn_seconds: float = Field(
        300.0, gt=0, description="Age of the oldest queued pose from which the queue warns."
    )
    oldest_queued_critical_seconds: float = Field(
        900.0, gt=0, description="Age of the oldest queued pose above which the queue is critical."
    )
    success_rate_warn: float = Field(
        95.0, ge=0, le=100, description="Pose success rate (%) in the window at or below which it warns."
    )
    success_rate_critical: float = Field(
        90.0, ge=0, le=100, description="Pose success rate (%) in the window below which it is critical."
    )
    refund_rate_warn: float = Field(
        5.0, ge=0, le=100, description="Credits refunded / charged (%) in the window from which it warns."
    )
    refund_rate_critical: float = Field(
        10.0,
        ge=0,
        le=100,
        description="Credits refunded / charged (%) in the window above which it is critical.",
    )
    pose_time_p95_warn_seconds: float = Field(
        30.0, gt=0, description="p95 render time per pose in the window from which it warns."
    )
    pose_time_p95_critical_seconds: float = Field(
        60.0, gt=0, description="p95 render time per pose in the window above which it is critical."
    )
    window_seconds: float = Field(
        3600.0,
        gt=0,
        le=30 * 86400,
        description="Window of the rate and time signals (poses submitted in it).",
    )
    min_finished_poses: int = Field(
        20,
        ge=1,
        description="Finished poses the window needs before its success and refund rates and p95 are judged.",
    )
    interval_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="How often each API process evaluates the thresholds between health checks.",
    )

    @model_validator(mode="after")
    def _warn_before_critical(self) -> Self:
        pairs = (
            ("QUEUE_DEPTH", self.queue_depth_warn, self.queue_depth_critical),
            ("OLDEST_QUEUED", self.oldest_queued_warn_seconds, self.oldest_queued_critical_seconds),
            ("REFUND_RATE", self.refund_rate_warn, self.refund_rate_critical),
            ("POSE_TIME_P95", self.pose_time_p95_warn_seconds, self.pose_time_p95_critical_seconds),
            # Lower is worse: the warn rate lies above the critical one.
            ("SUCCESS_RATE", self.success_rate_critical, self.success_rate_warn),
        )
        for name, first, second in pairs:
            if first > second:
                raise ValueError(
                    f"POSEGEN_MONITORING_{name}: the warn threshold lies beyond the critical one"
                )
        return self


class LogSettings(BaseModel):
    level: str = Field("INFO", description="Minimum level of log lines written to standard output.")
    json_lines: bool = Field(
        True, description="One JSON object per line; false gives coloured console lines."
    )


class Settings(BaseSettings):
    """Every setting of posegen, read once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="POSEGEN_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    env: Environment = Field(
        Environment.DEVELOPMENT, description="`development`, `test` or `production` (strict secret checks)."
    )
    data_dir: Path = Field(
        Path("var"), description="Directory for the SQLite database, local files and generated secrets."
    )
    server: ServerSettings = Field(default_factory=ServerSettings, description="HTTP server.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Database.")
    auth: AuthSettings = Field(default_factory=AuthSettings, description="Accounts and tokens.")
    bootstrap: BootstrapSettings = Field(
        default_factory=BootstrapSettings, description="Accounts created at start-up."
    )
    storage: StorageSettings = Field(default_factory=StorageSettings, description="File storage.")
    pricing: PricingSettings = Field(default_factory=PricingSettings, description="Prices in credits.")
    engines: EngineSettings = Field(default_factory=EngineSettings, description="Image engines.")
    work: WorkSettings = Field(default_factory=WorkSettings, description="Work queue and workers.")
    credits: CreditsSettings = Field(default_factory=CreditsSettings, description="Credits.")
    redis: RedisSettings = Field(
        default_factory=RedisSettings, description="Redis (cross-process events and rate-limit counters)."
    )
    limits: LimitSettings = Field(default_factory=LimitSettings, description="Rate limits.")
    realtime: RealtimeSettings = Field(default_factory=RealtimeSettings, description="Live updates.")
    log: LogSettings = Field(default_factory=LogSettings, description="Logging.")
    metrics: MetricsSettings = Field(
        default_factory=MetricsSettings, description="Prometheus exposition (`/metrics`)."
    )
    monitoring: MonitoringSettings = Field(
        default_factory=MonitoringSettings, description="Queue and work monitoring thresholds (`/health`)."
    )

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> Self:
        secret = self.auth.jwt_secret
        if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"POSEGEN_AUTH_JWT_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        if self.env is Environment.PRODUCTION and secret is None:
            raise ValueError("POSEGEN_AUTH_JWT_SECRET is required when POSEGEN_ENV=production")
        token = self.metrics.token
        if token is not None and len(token.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"POSEGEN_METRICS_TOKEN must be at least {MIN_SECRET_LENGTH} characters")
        return self

    @property
    def docs_public(self) -> bool:
        """Whether `/docs`, `/redoc` and `/openapi.json` are served (`server.public_docs`)."""
        if self.server.public_docs is not None:
            return self.server.public_docs
        return self.env is not Environment.PRODUCTION

    @property
    def allowed_origins(self) -> list[str]:
        """The browser origins CORS and the WebSocket check accept: the configured list, or the
        origins a browser uses for the address the server listens on."""
        if self.server.allowed_origins is not None:
            return self.server.allowed_origins
        return listening_origins(self.server.host, self.server.port)

    @property
    def storage_root(self) -> Path:
        """The local storage directory."""
        return self.storage.root or self.data_dir / "files"

    @property
    def database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'posegen.db').resolve()}"
