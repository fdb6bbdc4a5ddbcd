"""Prometheus: `/metrics` outside the app prefix, behind its token; the page parses with
prometheus_client's own parser and its counters move by what the test did; a real
`posegen worker` serves its own page."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database
from posegen.observability.prometheus import count_rate_limited
from posegen.work.repository import set_paused
from tests.fixtures.app import bearer, make_settings, open_client
from tests.generation.helpers import P, scene, submit, wait_finished
from tests.work.processes import free_port, process_env

TOKEN = "metrics-token-" + "m" * 40
GENERATE_ROUTE = f"{P}/generate"


def sample(page: str, name: str, **labels: str) -> float:
    """The value of sample `name` whose labels include `labels` (0 when absent)."""
    total = 0.0
    for family in text_string_to_metric_families(page):
        for item in family.samples:
            if item.name == name and all(item.labels.get(key) == value for key, value in labels.items()):
                total += item.value
    return total


@pytest.fixture
def metrics_settings(database_url: str, data_dir: Path) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        metrics={"token": TOKEN},
        work={"poll_interval_seconds": 0.05},
    )


@pytest.fixture
async def live(metrics_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its embedded worker, on the test's database."""
    async for client in open_client(create_app(metrics_settings, embed_worker=True)):
        yield client


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_page_is_off_without_a_token_setting(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics", headers=bearer(TOKEN))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    # Nothing under the app prefix answers it either: the admin metrics are another route.
    assert (await client.get(f"{P}/metrics", headers=bearer(TOKEN))).status_code == 401


async def test_token_is_required(live: httpx.AsyncClient) -> None:
    for headers in ({}, bearer("wrong-" + TOKEN), {"Authorization": TOKEN}, bearer("")):
        response = await live.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        body = response.json()
        assert body["success"] is False and body["error"]["code"] == "UNAUTHORIZED"
        assert response.headers["www-authenticate"] == "Bearer"
        assert "posegen_" not in response.text
    assert "/metrics" not in (await live.get("/openapi.json")).json()["paths"]


async def test_counters_move_by_what_a_generation_did(
    live: httpx.AsyncClient, db: Database, metrics_settings: Settings
) -> None:
    world = await scene(db, metrics_settings, poses=2)
    before = await scrape(live)
    accepted = await submit(
        live,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [pose.id for pose in world.poses],
            "batchSize": 1,
            "quality": "draft",
        },
    )
    assert accepted.status_code == 202, accepted.text
    generation = await wait_finished(db, accepted.json()["generationId"])
    assert generation.status == "completed"
    # Counters move after the commit that ends the last pose; the request log line comes last.
    await asyncio.sleep(0.2)
    after = await scrape(live)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("posegen_poses_finished_total", status="completed") == 2
    assert moved("posegen_poses_finished_total", status="failed") == 0
    assert moved("posegen_credits_charged_total") == 2 * 15
    assert moved("posegen_credits_refunded_total") == 0
    assert moved("posegen_claim_duration_seconds_count", result="claimed") == 2
    assert moved("posegen_queue_wait_seconds_count") == 2
    assert moved("posegen_engine_render_duration_seconds_count", engine="mannequin", outcome="ok") == 2
    histogram = {"method": "POST", "route": GENERATE_ROUTE, "status": "202"}
    assert moved("posegen_http_request_duration_seconds_count", **histogram) == 1
    assert moved("posegen_http_request_duration_seconds_bucket", le="+Inf", **histogram) == 1
    # The scrape before this one was observed too (it finished before the next began).
    assert (
        moved("posegen_http_request_duration_seconds_count", method="GET", route="/metrics", status="200")
        >= 1
    )
    # Gauges read from the database at scrape time.
    assert sample(after, "posegen_poses", status="queued") == 0
    assert sample(after, "posegen_poses", status="running") == 0
    assert sample(after, "posegen_queue_oldest_age_seconds") == 0
    assert sample(after, "posegen_websocket_connections") == 0


async def test_refunds_cancels_and_queue_gauges(
    live: httpx.AsyncClient, db: Database, metrics_settings: Settings
) -> None:
    world = await scene(db, metrics_settings, poses=3)
    async with db.session() as session:
        await set_paused(session, True)
    before = await scrape(live)
    accepted = await submit(
        live,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [pose.id for pose in world.poses],
            "batchSize": 1,
            "quality": "standard",
        },
    )
    generation_id = accepted.json()["generationId"]
    queued = await scrape(live)
    assert sample(queued, "posegen_poses", status="queued") == 3
    assert sample(queued, "posegen_queue_depth") == 3
    assert sample(queued, "posegen_queue_paused") == 1
    assert sample(queued, "posegen_queue_oldest_age_seconds") >= 0
    canceled = await live.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
    assert canceled.status_code == 200, canceled.text
    count_rate_limited("test-limit")
    after = await scrape(live)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("posegen_credits_charged_total") == 3 * 30
    assert moved("posegen_credits_refunded_total") == 3 * 30
    assert moved("posegen_poses_finished_total", status="canceled") == 3
    assert moved("posegen_rate_limited_total", limit="test-limit") == 1
    assert sample(after, "posegen_poses", status="queued") == 0


async def test_rolled_back_work_counts_nothing(
    live: httpx.AsyncClient, db: Database, metrics_settings: Settings
) -> None:
    """A refused submission (not enough credits) charges nothing, and the counter says so."""
    world = await scene(db, metrics_settings, credits=10, poses=1)
    before = await scrape(live)
    refused = await submit(
        live,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 1,
            "quality": "draft",
        },
    )
    assert refused.status_code == 402
    after = await scrape(live)
    assert sample(after, "posegen_credits_charged_total") == sample(before, "posegen_credits_charged_total")
    labels = {"method": "POST", "route": GENERATE_ROUTE, "status": "402"}
    assert (
        sample(after, "posegen_http_request_duration_seconds_count", **labels)
        - sample(before, "posegen_http_request_duration_seconds_count", **labels)
        == 1
    )


@contextmanager
def metrics_worker(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`posegen worker --metrics-port PORT`, stopped with SIGTERM at the end of the block."""
    process = subprocess.Popen(
        [sys.executable, "-m", "posegen", "worker", "--concurrency", "2", "--metrics-port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def scrape_worker(url: str, token: str | None = TOKEN) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.get(url, headers=bearer(token) if token else {})


async def wait_for_listener(url: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            if (await scrape_worker(url)).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the worker's metrics listener did not start"
        await asyncio.sleep(0.2)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_worker_process_serves_its_own_counters(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    """Each process exposes what it did: the worker renders and completes, the API charges."""
    world = await scene(db, settings, poses=3)
    port = free_port()
    env = process_env(
        database_url, data_dir, POSEGEN_METRICS_TOKEN=TOKEN, POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1"
    )
    url = f"http://127.0.0.1:{port}/metrics"
    with metrics_worker(env, port) as process:
        await wait_for_listener(url)
        assert (await scrape_worker(url, None)).status_code == 401
        assert (await scrape_worker(url, "wrong-" + TOKEN)).status_code == 401
        assert (await scrape_worker(f"http://127.0.0.1:{port}/openapi.json")).status_code == 404
        accepted = await submit(
            client,
            world.headers,
            {
                "projectId": world.project.id,
                "generationType": "GALLERY_REFERENCE",
                "selectedPoseIds": [pose.id for pose in world.poses],
                "batchSize": 2,
                "quality": "draft",
            },
        )
        assert accepted.status_code == 202, accepted.text
        generation = await wait_finished(db, accepted.json()["generationId"])
        assert generation.status == "completed"
        await asyncio.sleep(0.3)
        page = (await scrape_worker(url)).text
        assert process.poll() is None
    # A fresh process: its counters are exactly this test's six poses.
    assert sample(page, "posegen_poses_finished_total", status="completed") == 6
    assert sample(page, "posegen_engine_render_duration_seconds_count", engine="mannequin", outcome="ok") == 6
    assert sample(page, "posegen_claim_duration_seconds_count", result="claimed") == 6
    # The API process charged; the worker only completed.
    assert sample(page, "posegen_credits_charged_total") == 0
    assert sample(page, "posegen_poses", status="queued") == 0
    assert process.returncode == 0
