"""`GET /health`: what works right now, without secrets or hostnames."""

from __future__ import annotations

import asyncio
import time
from typing import Literal

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from posegen import __version__
from posegen.db import database_of
from posegen.kit.schemas import Schema

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
    if checks.database.status == "down":
        return "unhealthy"
    statuses = {checks.redis.status, checks.storage.status, checks.engines.status, checks.queue.status}
    return "degraded" if statuses & {"down", "degraded"} else "healthy"


@router.get("/health", response_model=Health)
async def health(request: Request) -> JSONResponse:
    """Service health: 200 when healthy or degraded, 503 when unhealthy."""
    not_configured = Check(status="not_configured")
    checks = HealthChecks(
        database=await _database(request),
        redis=not_configured,
        storage=not_configured,
        engines=not_configured,
        queue=not_configured,
    )
    result = Health(status=_overall(checks), checks=checks, version=__version__)
    return JSONResponse(
        result.model_dump(mode="json", by_alias=True),
        status_code=503 if result.status == "unhealthy" else 200,
    )
