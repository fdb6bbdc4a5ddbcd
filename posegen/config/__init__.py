"""Settings: one tree of typed, described fields read from `POSEGEN_*` variables.

Groups nest with a single underscore after the group name, so
`POSEGEN_DATABASE_URL` sets `database.url` and `POSEGEN_BOOTSTRAP_ADMIN_EMAIL`
sets `bootstrap.admin_email`. Group names therefore never contain `_`.

The root `Settings` lives in `settings.py`; each group lives with its neighbours
by concern (`server`, `stores`, `accounts`, `rendering`, `limits`, `telemetry`).
Import every name from `posegen.config`: the submodules are its layout, not its API.
"""

from posegen.config.accounts import AuthSettings, BootstrapSettings, CreditsSettings, PricingSettings
from posegen.config.limits import LimitSettings
from posegen.config.rendering import EngineSettings, QualitySettings, RealtimeSettings, WorkSettings
from posegen.config.server import LOOPBACK_HOSTS, LOOPBACK_NAMES, ServerSettings, listening_origins
from posegen.config.settings import MIN_SECRET_LENGTH, Environment, Settings
from posegen.config.stores import DatabaseSettings, RedisSettings, StorageSettings
from posegen.config.telemetry import LogSettings, MetricsSettings, MonitoringSettings

__all__ = [
    "LOOPBACK_HOSTS",
    "LOOPBACK_NAMES",
    "MIN_SECRET_LENGTH",
    "AuthSettings",
    "BootstrapSettings",
    "CreditsSettings",
    "DatabaseSettings",
    "EngineSettings",
    "Environment",
    "LimitSettings",
    "LogSettings",
    "MetricsSettings",
    "MonitoringSettings",
    "PricingSettings",
    "QualitySettings",
    "RealtimeSettings",
    "RedisSettings",
    "ServerSettings",
    "Settings",
    "StorageSettings",
    "WorkSettings",
    "listening_origins",
]
