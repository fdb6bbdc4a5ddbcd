"""The process's services as FastAPI dependencies, defined once: `db: DbDep`, `storage: StorageDep`, …

Every handler receives services through these (WebSocket handlers, which FastAPI gives no
request-scoped dependencies here, call `services_of(websocket)`). The lifespan of `posegen.app`
keeps the one `Services` of the process at `app.state.services`.

The types are imported for type checking only and named as strings in the `Annotated` aliases
(FastAPI needs only the `Depends` of a dependency): so every package, down to `auth` and
`storage` whose types appear here, may use these aliases without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, cast

from fastapi import Depends
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from posegen.auth.passwords import Passwords
    from posegen.auth.service import AccountOpened
    from posegen.auth.tokens import TokenService
    from posegen.config import Settings
    from posegen.db import Database
    from posegen.engines.registry import EngineRegistry
    from posegen.observability.monitoring import Monitor
    from posegen.projects.service import ProjectGenerations
    from posegen.ratelimit.factory import Rules
    from posegen.ratelimit.limiter import RateLimiter
    from posegen.services import Services
    from posegen.storage.base import Storage
    from posegen.storage.signing import UrlSigner


def services_of(connection: HTTPConnection) -> Services:
    """The services of the application serving `connection` (a request or a WebSocket)."""
    return cast("Services", connection.app.state.services)


def get_settings(connection: HTTPConnection) -> Settings:
    return services_of(connection).settings


def get_db(connection: HTTPConnection) -> Database:
    return services_of(connection).db


def get_storage(connection: HTTPConnection) -> Storage:
    return services_of(connection).storage


def get_url_signer(connection: HTTPConnection) -> UrlSigner:
    return services_of(connection).url_signer


def get_engines(connection: HTTPConnection) -> EngineRegistry:
    return services_of(connection).engines


def get_limiter(connection: HTTPConnection) -> RateLimiter:
    return services_of(connection).limiter


def get_rate_rules(connection: HTTPConnection) -> Rules:
    return services_of(connection).rate_rules


def get_tokens(connection: HTTPConnection) -> TokenService:
    return services_of(connection).tokens


def get_passwords(connection: HTTPConnection) -> Passwords:
    return services_of(connection).passwords


def get_monitor(connection: HTTPConnection) -> Monitor:
    return services_of(connection).monitor


def get_account_opened(connection: HTTPConnection) -> AccountOpened:
    return services_of(connection).account_opened


def get_project_generations(connection: HTTPConnection) -> ProjectGenerations:
    return services_of(connection).project_generations


def get_wake(connection: HTTPConnection) -> Callable[[], None]:
    return services_of(connection).wake


ServicesDep = Annotated["Services", Depends(services_of)]
SettingsDep = Annotated["Settings", Depends(get_settings)]
DbDep = Annotated["Database", Depends(get_db)]
StorageDep = Annotated["Storage", Depends(get_storage)]
UrlSignerDep = Annotated["UrlSigner", Depends(get_url_signer)]
EnginesDep = Annotated["EngineRegistry", Depends(get_engines)]
LimiterDep = Annotated["RateLimiter", Depends(get_limiter)]
RateRulesDep = Annotated["Rules", Depends(get_rate_rules)]
TokensDep = Annotated["TokenService", Depends(get_tokens)]
PasswordsDep = Annotated["Passwords", Depends(get_passwords)]
MonitorDep = Annotated["Monitor", Depends(get_monitor)]
ProjectGenerationsDep = Annotated["ProjectGenerations", Depends(get_project_generations)]
AccountOpenedDep = Annotated["AccountOpened", Depends(get_account_opened)]
# Wakes this process's worker once work was queued (run it `after_commit`).
WakeDep = Annotated[Callable[[], None], Depends(get_wake)]
