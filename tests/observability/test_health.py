"""Health: healthy with a working database, unhealthy (503) without, never a secret."""

from __future__ import annotations

from pathlib import Path

import httpx

from posegen.app import create_app
from posegen.db import Database
from posegen.work.repository import set_paused
from tests.fixtures.app import TEST_SECRET, make_settings, open_client

HEALTH = "/api/apps/pose-generator/health"


async def test_healthy_with_database(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"]["database"]["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "storage", "engines", "queue", "work"}
    assert body["checks"]["redis"]["status"] == "not_configured"
    assert body["alerts"] == []
    for name in ("storage", "engines", "queue", "work"):
        assert body["checks"][name]["status"] == "ok", body
    assert body["checks"]["queue"]["message"] == "depth 0, oldest 0 s"
    assert body["version"]


async def test_unreachable_database_is_unhealthy_without_revealing_it(data_dir: Path) -> None:
    url = "postgresql://posegen:hunter2-secret@127.0.0.1:1/posegen"
    app = create_app(make_settings(url, data_dir))
    async for client in open_client(app):
        response = await client.get(HEALTH)
        assert response.status_code == 503
        assert response.json()["status"] == "unhealthy"
        assert response.json()["checks"]["database"]["status"] == "down"
        for secret in ("hunter2", "127.0.0.1", TEST_SECRET):
            assert secret not in response.text


async def test_paused_queue_is_degraded_not_down(client: httpx.AsyncClient, db: Database) -> None:
    async with db.session() as session:
        await set_paused(session, True)
    response = await client.get(HEALTH)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["queue"]["status"] == "degraded"
