"""API and worker as separate processes with Redis between them (PostgreSQL, the scaled profile)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from posegen.config import Settings
from posegen.db import Database
from posegen.realtime.bus import PUBLISH_CONNECTIONS
from tests.fixtures.redis_server import OwnRedis, own_redis
from tests.generation.helpers import P, scene
from tests.realtime.live import events_until, receive
from tests.work.processes import api_process, process_env, worker_process

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]
FINAL = {"generation.completed", "generation.partial", "generation.failed", "generation.canceled"}


@pytest.fixture
def redis_server() -> Iterator[OwnRedis]:
    with own_redis() as server:
        yield server


def env_for(database_url: str, data_dir: Path, redis_url: str, latency_ms: int) -> dict[str, str]:
    return process_env(
        database_url,
        data_dir,
        POSEGEN_REDIS_URL=redis_url,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS=str(latency_ms),
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.05",
        POSEGEN_REALTIME_FALLBACK_POLL_SECONDS="0.2",
    )


async def authed(url: str, token: str) -> object:
    ws = await connect(url)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    assert (await receive(ws))["type"] == "connected"
    assert (await receive(ws))["type"] == "snapshot"
    return ws


async def test_every_event_arrives_once_in_order_across_processes(
    db: Database, settings: Settings, database_url: str, data_dir: Path, redis_server: OwnRedis
) -> None:
    world = await scene(db, settings)
    env = env_for(database_url, data_dir, redis_server.url, latency_ms=30)
    with api_process(env) as base, worker_process(env, concurrency=4):
        ws_url = base.replace("http://", "ws://") + f"{P}/ws"
        token = world.headers["Authorization"].split()[1]
        async with connect(ws_url) as ws, httpx.AsyncClient(base_url=base, timeout=30) as client:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await receive(ws)
            await receive(ws)
            accepted = await client.post(
                f"{P}/generate",
                headers=world.headers,
                json={
                    "projectId": world.project.id,
                    "generationType": "GALLERY_REFERENCE",
                    "engine": "sleep",
                    "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
                    "batchSize": 6,
                    "quality": "draft",
                },
            )
            assert accepted.status_code == 202, accepted.text
            events = await events_until(ws, FINAL)
            assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
            assert events[-1]["kind"] == "generation.completed"
            assert len([event for event in events if event["kind"] == "pose.completed"]) == 12

            generation_id = accepted.json()["generationId"]
            lines: list[str] = []
            async with client.stream(
                "GET",
                f"{P}/generations/{generation_id}/events",
                headers={**world.headers, "Last-Event-ID": "5"},
            ) as response:
                async for line in response.aiter_lines():
                    lines.append(line)
            seqs = [int(line[4:]) for line in lines if line.startswith("id: ")]
            assert seqs == [event["seq"] for event in events][5:]


async def test_redis_outage_degrades_but_events_keep_flowing(
    db: Database, settings: Settings, database_url: str, data_dir: Path, redis_server: OwnRedis
) -> None:
    world = await scene(db, settings)
    env = env_for(database_url, data_dir, redis_server.url, latency_ms=250)
    with api_process(env) as base, worker_process(env, concurrency=2):
        ws_url = base.replace("http://", "ws://") + f"{P}/ws"
        token = world.headers["Authorization"].split()[1]
        async with connect(ws_url) as ws, httpx.AsyncClient(base_url=base, timeout=30) as client:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await receive(ws)
            await receive(ws)
            health = (await client.get(f"{P}/health")).json()
            assert health["checks"]["redis"]["status"] == "ok"
            accepted = await client.post(
                f"{P}/generate",
                headers=world.headers,
                json={
                    "projectId": world.project.id,
                    "generationType": "GALLERY_REFERENCE",
                    "engine": "sleep",
                    "selectedPoseIds": [world.poses[0].id],
                    "batchSize": 10,
                    "quality": "draft",
                },
            )
            assert accepted.status_code == 202
            received = [await receive(ws), await receive(ws)]
            # Both processes have published by now: this is the steady number of connections.
            clients_before = redis_server.clients()
            redis_server.kill()
            degraded = False
            deadline = time.monotonic() + 20
            while not degraded and time.monotonic() < deadline:
                health = (await client.get(f"{P}/health")).json()
                degraded = (
                    health["status"] == "degraded" and health["checks"]["redis"]["status"] == "degraded"
                )
                await asyncio.sleep(0.1)
            assert degraded
            assert (await client.get(f"{P}/health")).status_code == 200
            more = [await receive(ws, within=10) for _ in range(3)]  # still flowing, from the database
            redis_server.start()
            recovered = False
            deadline = time.monotonic() + 20
            while not recovered and time.monotonic() < deadline:
                recovered = (await client.get(f"{P}/health")).json()["checks"]["redis"]["status"] == "ok"
                await asyncio.sleep(0.1)
            assert recovered
            rest = await events_until(ws, FINAL)
            events = [event for event in received + more + rest if event.get("type") == "event"]
            assert [event["seq"] for event in events] == list(range(1, len(events) + 1))
            assert events[-1]["kind"] == "generation.completed"
            # The restarted Redis sees one subscription (the API process's) and bounded publisher
            # pools again: nothing leaked through the outage, nothing grows per socket.
            assert redis_server.subscriptions("posegen:events") == 1
            assert redis_server.clients() <= max(clients_before, 1 + 2 * PUBLISH_CONNECTIONS + 1)
