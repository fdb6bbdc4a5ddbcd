"""`GET /health`: what works right now, without secrets or hostnames."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text

from posegen import __version__
from posegen.db import database_of
from posegen.generation.models import GeneratedPose, PoseStatus
from posegen.kit.schemas import Schema
from posegen.kit.time import utcnow
from posegen.work.queue import is_paused

log = structlog.get_logger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
QUEUE_DEPTH_CRITICAL = 500
OLDEST_QUEUED_CRITICAL_SECONDS = 15 * 60

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


class Health(Schema):
    status: Overall
    checks: HealthChecks
    version: str


router = APIRouter(tags=["health"])


async def _database(request: Request) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with database_of(request).engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "down"; the reason goes to the log only
        log.warning("health_database_down", error=type(exc).__name__)
        return Check(status="down", message="database unreachable")
    return Check(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


def _overall(checks: HealthChecks) -> Overall:
    if checks.database.status == "down" or checks.storage.status == "down":
        return "unhealthy"
    statuses = {checks.redis.status, checks.storage.status, checks.engines.status, checks.queue.status}
    return "degraded" if statuses & {"down", "degraded"} else "healthy"


async def _storage(request: Request) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await request.app.state.storage.exists("health/probe")
    except Exception as exc:  # unreachable storage: the reason goes to the log only
        log.warning("health_storage_down", error=type(exc).__name__)
        return Check(status="down", message="storage unreachable")
    return Check(status="ok", latency_ms=round((time.perf_counter() - started) * 1000, 2))


def _redis(request: Request) -> Check:
    if not request.app.state.settings.redis.url:
        return Check(status="not_configured")
    if request.app.state.bus.degraded:
        # Events still flow (read from the database), so this degrades, never downs, the service.
        return Check(status="degraded", message="redis unreachable: events read from the database")
    return Check(status="ok")


def _engines(request: Request) -> Check:
    registry = request.app.state.engines
    default = request.app.state.settings.engines.default
    available = sorted(name for name, engine in registry.engines.items() if engine.available())
    if default not in available:
        return Check(status="degraded", message=f"default engine {default} unavailable")
    return Check(status="ok", message=f"available: {', '.join(available)}")


async def _queue(request: Request) -> Check:
    try:
        async with database_of(request).session(write=False) as session:
            depth, oldest = (
                await session.execute(
                    select(func.count(), func.min(GeneratedPose.created_at)).where(
                        GeneratedPose.status == PoseStatus.QUEUED.value
                    )
                )
            ).one()
            paused = await is_paused(session)
    except Exception as exc:
        log.warning("health_queue_unknown", error=type(exc).__name__)
        return Check(status="down", message="queue unreadable")
    age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
    message = f"depth {depth}, oldest {round(age)} s" + (", paused" if paused else "")
    # DATA.md's critical thresholds: > 500 queued or a pose waiting over 15 minutes.
    degraded = paused or depth > QUEUE_DEPTH_CRITICAL or age > OLDEST_QUEUED_CRITICAL_SECONDS
    return Check(status="degraded" if degraded else "ok", message=message)


@router.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Unhealthy"}})
async def health(request: Request) -> JSONResponse:
    """Service health: 200 when healthy or degraded, 503 when unhealthy."""
    checks = HealthChecks(
        database=await _database(request),
        redis=_redis(request),
        storage=await _storage(request),
        engines=_engines(request),
        queue=await _queue(request),
    )
    result = Health(status=_overall(checks), checks=checks, version=__version__)
    return JSONResponse(
        result.model_dump(mode="json", by_alias=True),
        status_code=503 if result.status == "unhealthy" else 200,
    )
