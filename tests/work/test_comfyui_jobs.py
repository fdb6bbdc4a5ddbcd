"""The `comfyui` engine as users run it: a real `posegen serve` (and `posegen worker`) process
renders on fake ComfyUI servers (tests/fixtures/fake_comfyui.py, speaking ComfyUI's HTTP and
WebSocket protocol, its picture derived from the control map it was sent)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops
from sqlalchemy import select
from websockets.asyncio.client import connect

from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.generation.models import GeneratedPose
from posegen.imaging.control_map import render_control_map
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.fake_comfyui import FakeComfyUI, derived_image
from tests.generation.helpers import P, Scene, scene, wait_finished
from tests.realtime.live import receive
from tests.work.processes import api_process, api_server, process_env, worker_process

# Real processes against fake GPU servers: the scaled profile, PostgreSQL.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]

DRAFT_PRICE = 15
FINAL = {"generation.completed", "generation.partial", "generation.failed", "generation.canceled"}


@pytest.fixture
def servers() -> Iterator[tuple[FakeComfyUI, FakeComfyUI]]:
    with FakeComfyUI() as first, FakeComfyUI() as second:
        yield first, second


def comfy_env(database_url: str, data_dir: Path, urls: list[str], **settings: str) -> dict[str, str]:
    return process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_COMFYUI_URLS=json.dumps(urls),
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1",
        **settings,
    )


async def generate(client: httpx.AsyncClient, world: Scene, poses: int, variations: int = 1) -> str:
    accepted = await client.post(
        f"{P}/generate",
        headers=world.headers,
        json={
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "engine": "comfyui",
            "selectedPoseIds": [pose.id for pose in world.poses[:poses]],
            "batchSize": variations,
            "quality": "draft",
        },
    )
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["generationId"])


async def pose_rows(db: Database, generation_id: str) -> list[GeneratedPose]:
    async with db.session(write=False) as session:
        query = select(GeneratedPose).where(GeneratedPose.generation_id == generation_id)
        return list(await session.scalars(query))


async def until(condition: Any, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("RGB"), b.convert("RGB")).getbbox() is None


async def test_a_gallery_on_comfyui_carries_each_poses_control_map_and_streams_step_progress(
    db: Database,
    settings: Settings,
    database_url: str,
    data_dir: Path,
    servers: tuple[FakeComfyUI, FakeComfyUI],
) -> None:
    first, second = servers
    for server in servers:
        server.step_delay = 0.1  # 12 draft steps: over a second per pose
    world = await scene(db, settings, poses=3)
    env = comfy_env(database_url, data_dir, [first.url, second.url])
    with api_server(env, worker=True) as (url, _pid):
        host = url.removeprefix("http://")
        async with (
            httpx.AsyncClient(base_url=url, timeout=30) as client,
            connect(f"ws://{host}{P}/ws") as ws,
        ):
            await ws.send(json.dumps({"type": "auth", "token": world.headers["Authorization"].split()[1]}))
            assert (await receive(ws))["type"] == "connected"
            assert (await receive(ws))["type"] == "snapshot"
            generation_id = await generate(client, world, poses=3)
            events: list[dict[str, Any]] = []
            while not events or events[-1].get("kind") not in FINAL:
                message = await receive(ws, within=60)
                if message.get("type") == "event":
                    events.append(message)
            engines = (await client.get(f"{P}/engines", headers=world.headers)).json()["engines"]
            body = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
            images = {
                pose["id"]: Image.open(io.BytesIO((await client.get(pose["imageUrl"])).content))
                for pose in body["generation"]["poses"]
            }

    assert events[-1]["kind"] == "generation.completed"
    # Step progress came live, without seq, at most twice a second per pose.
    progress = [event for event in events if event["kind"] == "pose.progress"]
    assert progress and all(event["seq"] is None for event in progress)
    assert all(event["data"]["steps"] == 12 and 0 < event["data"]["step"] <= 12 for event in progress)
    stored = [event["seq"] for event in events if event["seq"] is not None]
    assert stored == sorted(stored) == list(range(stored[0], stored[0] + len(stored)))
    # Each output is the fake's picture of exactly the control map of the pose it was asked for.
    rows = await pose_rows(db, generation_id)
    assert len(rows) == 3 and all(row.status == "completed" for row in rows)
    for row in rows:
        points = [(float(x), float(y), float(c)) for x, y, c in row.keypoints["points"]]
        expected = derived_image(render_control_map(points, 512, 512), 512, 512, row.seed)
        assert same_pixels(images[row.id], expected)
        assert row.remote_server in (first.url, second.url) and row.remote_job_id
    assert first.total_prompt_posts + second.total_prompt_posts == 3
    listed = {engine["name"]: engine for engine in engines}["comfyui"]
    assert listed["available"] is True and listed["supportsControlImage"] is True
    assert sorted(server["url"] for server in listed["servers"]) == sorted([first.url, second.url])
    assert all(server["breaker"] == "closed" for server in listed["servers"])


async def test_cancel_interrupts_exactly_the_running_prompt_and_refunds(
    db: Database,
    settings: Settings,
    database_url: str,
    data_dir: Path,
    servers: tuple[FakeComfyUI, FakeComfyUI],
) -> None:
    first, _second = servers
    first.step_delay = 1.0  # 12 s a pose: still running when cancelled
    world = await scene(db, settings, poses=1)
    env = comfy_env(database_url, data_dir, [first.url])
    with api_server(env, worker=True) as (url, _pid):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            generation_id = await generate(client, world, poses=1)

            async def running() -> bool:
                return first.running is not None

            await until(running)
            prompt_id = first.running
            canceled = await client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
            assert canceled.status_code == 200, canceled.text
            generation = await wait_finished(db, generation_id, within=30)

            async def interrupted() -> bool:
                return bool(first.interrupts)

            await until(interrupted)
    assert generation.status == "canceled"
    (row,) = await pose_rows(db, generation_id)
    assert row.remote_job_id == prompt_id
    assert first.interrupts == [prompt_id]
    assert await balance_of(db, world.user.id) == 10_000 == await ledger_sum(db, world.user.id)


async def test_node_errors_fail_the_pose_for_good_with_a_refund(
    db: Database,
    settings: Settings,
    database_url: str,
    data_dir: Path,
    servers: tuple[FakeComfyUI, FakeComfyUI],
) -> None:
    first, _second = servers
    first.checkpoints = ["another-model.safetensors"]  # the workflow's checkpoint is missing: 400
    world = await scene(db, settings, poses=1)
    env = comfy_env(database_url, data_dir, [first.url])
    with api_server(env, worker=True) as (url, _pid):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            generation_id = await generate(client, world, poses=1)
            generation = await wait_finished(db, generation_id, within=30)
    assert generation.status == "failed"
    (row,) = await pose_rows(db, generation_id)
    assert (row.status, row.error_code, row.attempts) == ("failed", "PROVIDER_BAD_REQUEST", 1)
    assert first.total_prompt_posts == 1  # permanent: never tried again
    assert await balance_of(db, world.user.id) == 10_000 == await ledger_sum(db, world.user.id)


async def test_a_server_that_is_down_leaves_the_work_to_another(
    db: Database,
    settings: Settings,
    database_url: str,
    data_dir: Path,
    servers: tuple[FakeComfyUI, FakeComfyUI],
) -> None:
    first, second = servers
    first.stop()  # refuses connections
    world = await scene(db, settings, poses=2)
    env = comfy_env(database_url, data_dir, [first.url, second.url])
    with api_server(env, worker=True) as (url, _pid):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            generation_id = await generate(client, world, poses=2)
            generation = await wait_finished(db, generation_id, within=60)
    assert generation.status == "completed"
    assert second.total_prompt_posts == 2 and first.total_prompt_posts == 0
    assert {row.remote_server for row in await pose_rows(db, generation_id)} == {second.url}


async def test_a_killed_worker_is_replaced_without_paying_twice_for_any_pose(
    db: Database,
    settings: Settings,
    database_url: str,
    data_dir: Path,
    servers: tuple[FakeComfyUI, FakeComfyUI],
) -> None:
    first, _second = servers
    first.step_delay = 0.25  # 3 s a pose: the kill lands while prompts run and wait
    world = await scene(db, settings, poses=2)
    env = comfy_env(
        database_url,
        data_dir,
        [first.url],
        POSEGEN_WORK_LEASE_SECONDS="2",
        POSEGEN_WORK_RECONCILE_INTERVAL_SECONDS="1",
    )
    with api_process(env) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            generation_id = await generate(client, world, poses=2, variations=2)  # 4 poses
        with worker_process(env, concurrency=4) as doomed:

            async def all_submitted() -> bool:
                return first.total_prompt_posts == 4

            await until(all_submitted)
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait()
        assert any(row.status == "running" for row in await pose_rows(db, generation_id))
        with worker_process(env, concurrency=4):
            generation = await wait_finished(db, generation_id, within=90)
    assert generation.status == "completed"
    rows = await pose_rows(db, generation_id)
    assert max(row.attempts for row in rows) >= 2  # taken over after the leases ran out
    # Exactly one POST /prompt per pose, across both workers: the successor re-attached.
    assert first.total_prompt_posts == 4
    assert sorted(first.prompt_posts) == sorted(str(row.remote_job_id) for row in rows)
    assert set(first.prompt_posts.values()) == {1}
    assert (
        await balance_of(db, world.user.id) == 10_000 - 4 * DRAFT_PRICE == await ledger_sum(db, world.user.id)
    )
    assert all(finding.ok for finding in await examine(db))
