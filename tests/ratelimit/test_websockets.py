"""Concurrent WebSocket connections per user, with a real client against a real server, on both
storages: one more than the cap is closed with 4429 after its auth message."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
import redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from posegen.app import create_app
from posegen.db import Database
from posegen.ratelimit.redis_limiter import SLOT_PREFIX
from tests.generation.helpers import P, scene
from tests.ratelimit.conftest import Storage, limited_settings
from tests.realtime.live import live_server, receive

# The cap lives in the limiter, not the database: one database is enough here.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def authed(url: str, token: str) -> ClientConnection:
    ws = await connect(url)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    assert (await receive(ws))["type"] == "connected"
    assert (await receive(ws))["type"] == "snapshot"
    return ws


async def refused_code(url: str, token: str) -> int | None:
    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


async def test_websocket_connections_per_user(
    db: Database, database_url: str, data_dir: Path, storage: Storage
) -> None:
    settings = limited_settings(database_url, data_dir, storage, websockets_per_user=2)
    alice = await scene(db, settings)
    bob = await scene(db, settings)
    alice_token = alice.headers["Authorization"].split()[1]
    bob_token = bob.headers["Authorization"].split()[1]
    async with live_server(create_app(settings, embed_worker=False)) as address:
        url = f"ws://{address}{P}/ws"
        first = await authed(url, alice_token)
        second = await authed(url, alice_token)
        assert await refused_code(url, alice_token) == 4429
        if storage.server is not None:  # the slots are in Redis, where every API process sees them
            held = redis.Redis.from_url(storage.url or "").zcard(f"{SLOT_PREFIX}:websockets:{alice.user.id}")
            assert held == 2
        # Another user has slots of their own.
        other = await authed(url, bob_token)
        await other.close()
        # A closed connection gives its slot back.
        await first.close()
        deadline = time.monotonic() + 5
        while True:
            try:
                again = await authed(url, alice_token)
                break
            except (AssertionError, ConnectionClosed):
                assert time.monotonic() < deadline, "the slot was not released"
                await asyncio.sleep(0.1)
        await again.close()
        await second.close()
