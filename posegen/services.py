"""The process's services, built once from settings: `async with build_services(settings) as services`.

The one place where the database, event bus, storage, engines, limiter, tokens and (optionally)
the worker are made, connected to each other and closed in reverse order. The ASGI lifespan
(`posegen.app`) and every command of `posegen.cli` go through it; handlers reach the result
through the `Annotated` dependencies of `posegen.dependencies`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from posegen.admin import metrics_service
from posegen.auth.passwords import Passwords
from posegen.auth.tokens import TokenService
from posegen.config import Settings
from posegen.credits import bonus
from posegen.db import Database
from posegen.engines.registry import EngineRegistry
from posegen.generation.project_figures import PROJECT_GENERATIONS
from posegen.observability import prometheus
from posegen.observability.monitoring import Monitor
from posegen.projects.service import ProjectGenerations
from posegen.ratelimit.factory import Rules, create_limiter
from posegen.ratelimit.limiter import RateLimiter
from posegen.realtime.bus import EventBus, create_bus
from posegen.realtime.fanout import Listener
from posegen.storage.base import Storage
from posegen.storage.factory import create_storage, url_signer
from posegen.storage.signing import UrlSigner
from posegen.work.wakeup import Wakeup, create_wakeup
from posegen.work.worker import Worker

if TYPE_CHECKING:
    from posegen.auth.service import AccountOpened
    from posegen.observability.prometheus import ReadQueue


@dataclass(frozen=True)
class Services:
    """Everything a request, a command or the worker needs, for the life of the process."""

    settings: Settings
    # Publishes every committed generation event to `bus`.
    db: Database
    bus: EventBus
    storage: Storage
    url_signer: UrlSigner
    engines: EngineRegistry
    limiter: RateLimiter
    rate_rules: Rules
    tokens: TokenService
    passwords: Passwords
    # Runs in the transaction that registers an account: the credits' sign-up bonus.
    account_opened: AccountOpened
    # What projects show and check of their generations (projects import nothing of generation).
    project_generations: ProjectGenerations
    monitor: Monitor
    # The queue gauges of `/metrics` (observability reads domain state only through such functions).
    queue_gauges: ReadQueue
    # Hints that wake idle workers here and in other processes when work becomes claimable.
    wakeup: Wakeup
    # The work loop of this process, when it runs one (the embedded profile, `posegen worker`).
    worker: Worker | None
    # The WebSockets open in this process, and the flag that tells them the server is going away.
    sockets: set[Listener] = field(default_factory=set)
    going_away: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        """Work was queued (call after commit): idle workers here and elsewhere claim it at once."""
        self.wakeup.publish()


@asynccontextmanager
async def build_services(
    settings: Settings, *, worker: bool = False, deliver_events: bool = True
) -> AsyncIterator[Services]:
    """The services for `settings`, started for the block and closed after it.

    `worker` builds the work loop (its caller runs it); `deliver_events` is False in processes
    that only publish events and serve no sockets (`posegen worker`, the other commands)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    # A process that serves no requests (`posegen worker`, the other commands) runs every
    # transaction under `Database.run`, which re-runs it whole on a lost connection, so it skips
    # the pool's ping: one round trip less per transaction, about one in six per pose.
    plain = Database.from_settings(settings, ping_on_checkout=deliver_events)
    # The bus reads missed events back through the plain database; everything else writes
    # through the one that publishes each committed event on the bus.
    bus = create_bus(settings, plain, listen=deliver_events)
    db = plain.publishing_to(bus.publish)
    storage = create_storage(settings)
    engines = EngineRegistry.from_settings(settings)
    limiter = create_limiter(settings)
    # Every refusal (429, or a WebSocket closed with 4429) is counted, by limit name.
    limiter.rejection_hooks.append(prometheus.count_rate_limited)
    # Only a process that runs a worker listens for hints; every process publishes them.
    wakeup = create_wakeup(settings, listen=worker)
    services = Services(
        settings=settings,
        db=db,
        bus=bus,
        storage=storage,
        url_signer=url_signer(settings),
        engines=engines,
        limiter=limiter,
        rate_rules=Rules.from_settings(settings),
        tokens=TokenService.from_settings(settings),
        passwords=Passwords(),
        account_opened=bonus.signup_bonus(settings.credits.signup_bonus),
        project_generations=PROJECT_GENERATIONS,
        monitor=Monitor(settings.monitoring, metrics_service.work_signals),
        queue_gauges=metrics_service.queue_gauges,
        wakeup=wakeup,
        worker=Worker(db, storage, engines.engines, settings, wakeup=wakeup) if worker else None,
    )
    try:
        await bus.start()
        await wakeup.start()
        yield services
    finally:
        await wakeup.stop()
        await bus.stop()
        await limiter.aclose()
        await engines.aclose()
        await storage.aclose()
        await db.dispose()
