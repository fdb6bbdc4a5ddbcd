"""Redis killed mid-test: limits fall back to per-process memory and `/health` says `degraded`;
once Redis is back the counters are shared again and health is healthy."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import redis

from posegen.db import Database
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user
from tests.fixtures.redis_server import OwnRedis, own_redis
from tests.generation.helpers import P
from tests.ratelimit.conftest import Storage, limited_settings, serving

HEALTH = f"{P}/health"


def shared_counters(server: OwnRedis) -> list[bytes]:
    """The sliding-window counters in Redis (limits' keys)."""
    return list(redis.Redis.from_url(server.url).scan_iter("LIMITS:*"))


async def health_until(
    client: httpx.AsyncClient, redis_status: str, within: float = 10.0
) -> dict[str, object]:
    deadline = time.monotonic() + within
    while True:
        body: dict[str, object] = (await client.get(HEALTH)).json()
        checks = body["checks"]
        assert isinstance(checks, dict)
        if checks["redis"]["status"] == redis_status:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.1)


async def test_redis_outage_falls_back_to_memory_and_recovers(
    db: Database, database_url: str, data_dir: Path
) -> None:
    with own_redis() as server:
        settings = limited_settings(database_url, data_dir, Storage("redis", server), writes_per_minute=4)
        user = await create_user(db)
        headers = bearer(token_for(settings, user))

        async def write(name: str) -> httpx.Response:
            return await client.post(f"{P}/projects", json={"projectName": name}, headers=headers)

        async with serving(settings) as (_, [client]):
            assert (await client.get(HEALTH)).json()["status"] == "healthy"
            for left in (3, 2):
                response = await write(f"shared {left}")
                assert response.status_code == 201
                assert response.headers["X-RateLimit-Remaining"] == str(left)
            assert shared_counters(server)

            server.kill()
            # Health notices without waiting for traffic, and says what is lost.
            body = await health_until(client, "degraded")
            assert body["status"] == "degraded"
            assert "rate limits counted per process" in str(body["checks"])
            # Writes still work and are still limited, now by this process's own counters.
            for left in (3, 2, 1, 0):
                response = await write(f"local {left}")
                assert response.status_code == 201, response.text
                assert response.headers["X-RateLimit-Remaining"] == str(left)
            refused = await write("over")
            assert refused.status_code == 429
            assert refused.json()["error"]["code"] == "RATE_LIMITED"

            server.start()  # same port, empty (no persistence)
            body = await health_until(client, "ok")
            assert body["status"] == "healthy"
            # Counting is shared again: the new Redis holds the counter of the next write.
            assert not shared_counters(server)
            response = await write("shared again")
            assert response.status_code == 201, response.text
            assert response.headers["X-RateLimit-Remaining"] == "3"
            assert shared_counters(server)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_memory_storage_is_never_degraded(db: Database, database_url: str, data_dir: Path) -> None:
    settings = limited_settings(database_url, data_dir, Storage("memory", None))
    async with serving(settings) as (app, [client]):
        body = (await client.get(HEALTH)).json()
        assert app.state.services.limiter.backend == "memory"
        assert body["checks"]["redis"]["status"] == "not_configured"
        assert body["status"] == "healthy"
