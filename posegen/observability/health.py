"""`GET /health`: what works right now, without secrets or hostnames."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING, Literal

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import text

from posegen import __version__
from posegen.dependencies import ServicesDep
from posegen.kit.schemas import Schema
from posegen.observability.monitoring import QUEUE_SIGNALS, Evaluation, Signal

if TYPE_CHECKING:
    from posegen.services import Services

log = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0

CheckStatus = Literal["ok", "degraded", "down", "not_configured"]
Overall = Literal["healthy", "degraded", "unhealthy"]


class Check(Schema):
    status: CheckStatus
    latency_ms: float | None = None
    message: str | None = None


class HealthChecks(Schema):
    database: Check
    redis: Check
    storage: Check
    engines: Check
    queue: Check
    work: Check


class AlertOut(Schema):
    """A monitoring threshold crossed now (DATA.md "Monitoring thresholds")."""

    signal: Signal
    level: Literal["warn", "critical"]
    value: float
    threshold: float
    message: str


class Health(Schema):
    status: Overall
    checks: HealthChecks
    alerts: list[AlertOut] = Field(description="Thresholds crossed now; each makes the status degraded.")
    version: str


router = APIRouter(tags=["health"])


async def _database(services: Services) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with services.db.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "down"; the reason goes to the log only
        log.warning("health_database_down", error=type(exc).__name__)
        return Check(status="down", message="database unreachable")
    return Check(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


def _overall(checks: HealthChecks) -> Overall:
    if checks.database.status == "down" or checks.storage.status == "down":
        return "unhealthy"
    statuses = {
        checks.redis.status,
        checks.storage.status,
        checks.engines.status,
        checks.queue.status,
        checks.work.status,
    }
    return "degraded" if statuses & {"down", "degraded"} else "healthy"


async def _storage(services: Services) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await services.storage.exists("health/probe")
    except Exception as exc:  # unreachable storage: the reason goes to the log only
        log.warning("health_storage_down", error=type(exc).__name__)
        return Check(status="down", message="storage unreachable")
    return Check(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


async def _redis(services: Services) -> Check:
    if not services.settings.redis.url:
        return Check(status="not_configured")
    limiter = services.limiter
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await limiter.probe()  # a ping: the limiter's state is current even without traffic
    # Events still flow (read from the database) and limits still hold (per process), so Redis
    # being away degrades, never downs, the service.
    lost = [
        *(["events read from the database"] if services.bus.degraded else []),
        *(["rate limits counted per process"] if limiter.degraded else []),
    ]
    if lost:
        return Check(status="degraded", message="redis unreachable: " + "; ".join(lost))
    return Check(status="ok")


def _engines(services: Services) -> Check:
    registry = services.engines
    default = services.settings.engines.default
    available = sorted(name for name, engine in registry.engines.items() if engine.available())
    if default not in available:
        return Check(status="degraded", message=f"default engine {default} unavailable")
    return Check(status="ok", message=f"available: {', '.join(available)}")


async def _queue(services: Services, evaluation: Evaluation | None) -> Check:
    if evaluation is None:
        return Check(status="down", message="queue unreadable")
    queue = evaluation.queue
    message = f"depth {queue.depth}, oldest {round(evaluation.oldest_age_seconds)} s" + (
        ", paused" if queue.paused else ""
    )
    alerts = [alert for alert in evaluation.alerts if alert.signal in QUEUE_SIGNALS]
    if alerts:
        message += "; " + "; ".join(alert.message for alert in alerts)
    return Check(status="degraded" if queue.paused or alerts else "ok", message=message)


def _work(evaluation: Evaluation | None) -> Check:
    if evaluation is None:
        return Check(status="down", message="work figures unreadable")
    alerts = [alert for alert in evaluation.alerts if alert.signal not in QUEUE_SIGNALS]
    if alerts:
        return Check(status="degraded", message="; ".join(alert.message for alert in alerts))
    return Check(status="ok", message=evaluation.summary)


@router.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Unhealthy"}})
async def health(services: ServicesDep) -> JSONResponse:
    """Service health: 200 when healthy or degraded, 503 when unhealthy."""
    evaluation = await services.monitor.evaluate(services.db)
    checks = HealthChecks(
        database=await _database(services),
        redis=await _redis(services),
        storage=await _storage(services),
        engines=_engines(services),
        queue=await _queue(services, evaluation),
        work=_work(evaluation),
    )
    alerts = [AlertOut.model_validate(alert) for alert in evaluation.alerts] if evaluation else []
    result = Health(status=_overall(checks), checks=checks, alerts=alerts, version=__version__)
    return JSONResponse(
        result.model_dump(mode="json", by_alias=True),
        status_code=503 if result.status == "unhealthy" else 200,
    )
