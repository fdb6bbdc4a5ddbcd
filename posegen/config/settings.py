"""The settings tree: the root `Settings` that reads `POSEGEN_*` variables and its rules across groups."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from posegen.config.accounts import AuthSettings, BootstrapSettings, CreditsSettings, PricingSettings
from posegen.config.limits import LimitSettings
from posegen.config.rendering import EngineSettings, QualitySettings, RealtimeSettings, WorkSettings
from posegen.config.server import ServerSettings, listening_origins
from posegen.config.stores import DatabaseSettings, RedisSettings, StorageSettings
from posegen.config.telemetry import LogSettings, MetricsSettings, MonitoringSettings

MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


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
    quality: QualitySettings = Field(
        default_factory=QualitySettings, description="The pose check of finished images."
    )
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
