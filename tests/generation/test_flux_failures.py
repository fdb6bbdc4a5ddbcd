"""FLUX through the fake Hugging Face server: retries per error class, permanent failures refunded,
partial results, retry of failed poses, and a 401 that opens the breaker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.engines.flux.fake_server import FakeFluxServer, Reply
from posegen.generation.models import GeneratedPose, GenerationEvent
from posegen.library.models import Pose
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import make_settings, open_client
from tests.generation.helpers import P, running_worker, scene, submit, wait_finished

TOKEN = "hf-test-token"


@pytest.fixture
def flux_server() -> Iterator[FakeFluxServer]:
    with FakeFluxServer(token=TOKEN) as server:
        yield server


def flux_settings(database_url: str, data_dir: Path, url: str, token: str = TOKEN) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        engines={
            "flux_base_url": url,
            "flux_token": token,
            "flux_timeout_seconds": 5,
            "breaker_failures": 50,
            "breaker_reset_seconds": 0.3,
        },
        work={"concurrency": 2, "poll_interval_seconds": 0.05, "backoff_max_seconds": 0.1, "max_attempts": 4},
    )


@pytest.fixture
def settings_flux(database_url: str, data_dir: Path, flux_server: FakeFluxServer) -> Settings:
    return flux_settings(database_url, data_dir, flux_server.url)


@pytest.fixture
async def flux_client(settings_flux: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(create_app(settings_flux, embed_worker=False)):
        yield client


async def test_partial_generation_refunds_exactly_the_failed_poses(
    flux_client: httpx.AsyncClient,
    db: Database,
    settings_flux: Settings,
    database_url: str,
    flux_server: FakeFluxServer,
) -> None:
    world = await scene(db, settings_flux, poses=2)
    async with db.session() as session:
        await session.execute(
            update(Pose)
            .where(Pose.id == world.poses[1].id)
            .values(description="A pose the provider refuses FAIL-ME.")
        )
    flux_server.on_prompt("FAIL-ME", Reply.bad_request())
    # Transient trouble first: each is retried and the poses still complete.
    flux_server.script(
        [Reply.rate_limited(retry_after=0), Reply.loading(estimated_time=0.05), Reply.server_error(502)]
    )
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "engine": "flux",
        "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
        "batchSize": 2,
        "quality": "draft",
    }
    accepted = await submit(flux_client, world.headers, body)
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["generationId"]
    async with running_worker(database_url, settings_flux):
        generation = await wait_finished(db, generation_id)
    assert generation.status == "partial"
    assert (generation.poses_completed, generation.poses_failed) == (2, 2)
    assert generation.credit_refunded == 2 * 15
    assert await balance_of(db, world.user.id) == 10_000 - 2 * 15 == await ledger_sum(db, world.user.id)
    async with db.session(write=False) as session:
        poses = list(
            await session.scalars(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id))
        )
        events = list(
            await session.scalars(
                select(GenerationEvent)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.seq)
            )
        )
    failed = [pose for pose in poses if pose.status == "failed"]
    assert {pose.error_code for pose in failed} == {"PROVIDER_BAD_REQUEST"}
    assert {pose.attempts for pose in failed} == {1}  # permanent: never retried
    assert max(pose.attempts for pose in poses if pose.status == "completed") >= 2  # transient: retried
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[0].kind == "generation.queued"
    assert events[-1].kind == "generation.partial"
    assert events[-1].data == {"completed": 2, "failed": 2, "creditRefunded": 30}
    assert [e.kind for e in events].count("pose.failed") == 2
    assert sent_models(flux_server) == {"/models/black-forest-labs/FLUX.1-schnell"}
    assert all(finding.ok for finding in await examine(db))

    # Retry: the failed poses are charged again and, once the provider accepts them, complete.
    flux_server.reset()
    retried = await flux_client.post(f"{P}/generations/{generation_id}/retry", headers=world.headers)
    assert retried.status_code == 202, retried.text
    assert await balance_of(db, world.user.id) == 10_000 - 4 * 15
    async with running_worker(database_url, settings_flux):
        generation = await wait_finished(db, generation_id)
    assert generation.status == "completed"
    assert await balance_of(db, world.user.id) == 10_000 - 4 * 15 == await ledger_sum(db, world.user.id)
    assert all(finding.ok for finding in await examine(db))


def sent_models(server: FakeFluxServer) -> set[str]:
    return {request.path for request in server.requests}


async def test_unauthorized_provider_fails_poses_and_opens_the_breaker(
    db: Database, database_url: str, data_dir: Path, flux_server: FakeFluxServer
) -> None:
    wrong = flux_settings(database_url, data_dir, flux_server.url, token="wrong-token")
    world = await scene(db, wrong, poses=1)
    async for client in open_client(create_app(wrong, embed_worker=False)):
        body = {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "engine": "flux",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 3,
            "quality": "draft",
        }
        accepted = await submit(client, world.headers, body)
        assert accepted.status_code == 202
        async with running_worker(database_url, wrong):
            generation = await wait_finished(db, accepted.json()["generationId"])
        assert generation.status == "failed"
        async with db.session(write=False) as session:
            poses = list(
                await session.scalars(
                    select(GeneratedPose).where(GeneratedPose.generation_id == generation.id)
                )
            )
        assert {pose.error_code for pose in poses} == {"PROVIDER_AUTH"}
        # 401 is permanent and opens the breaker: attempts made while it was open never
        # reached the provider, which saw at most one trial per pose.
        assert len(flux_server.requests) <= 3
        assert sum(pose.attempts for pose in poses) >= len(flux_server.requests)
        assert await balance_of(db, world.user.id) == 10_000
        assert all(finding.ok for finding in await examine(db))
