"""Every rate-limit test runs on both storages: memory, and a real Redis server of its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from posegen.app import create_app
from posegen.config import Settings
from tests.fixtures.app import HIGH_LIMITS, make_settings
from tests.fixtures.redis_server import OwnRedis, own_redis


@dataclass
class Storage:
    """Where the counters live for this test: `memory`, or `redis` on `server`."""

    name: str
    server: OwnRedis | None

    @property
    def url(self) -> str | None:
        return self.server.url if self.server is not None else None

    async def window_start(self, window: float) -> None:
        """Memory windows are numbered from the epoch; start a short-window test right after a
        boundary so it does not straddle one. Redis windows start at a key's first hit."""
        if self.name == "memory":
            await asyncio.sleep(window - time.time() % window + 0.02)


@pytest.fixture(params=["memory", "redis"])
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    if request.param == "memory":
        yield Storage("memory", None)
        return
    with own_redis() as server:
        yield Storage("redis", server)


def limited_settings(database_url: str, data_dir: Path, storage: Storage, **limits: Any) -> Settings:
    overrides: dict[str, Any] = {"limits": {**HIGH_LIMITS, **limits}}
    if storage.url is not None:
        overrides["redis"] = {"url": storage.url}
    return make_settings(database_url, data_dir, **overrides)


@asynccontextmanager
async def serving(
    settings: Settings, *clients: tuple[str, int]
) -> AsyncIterator[tuple[FastAPI, list[httpx.AsyncClient]]]:
    """The app with one in-process client per peer address (the socket's address, as seen by it)."""
    app = create_app(settings, embed_worker=False)
    async with app.router.lifespan_context(app):
        opened = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, client=peer), base_url="http://testserver"
            )
            for peer in clients or (("127.0.0.1", 50000),)
        ]
        try:
            yield app, opened
        finally:
            for client in opened:
                await client.aclose()
