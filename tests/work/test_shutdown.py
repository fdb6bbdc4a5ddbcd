"""Graceful shutdown: SIGTERM to real `posegen worker` and `posegen serve` processes on PostgreSQL,
and the release of a stopping worker's leases on both databases."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.generation.models import GeneratedPose, Generation, GenerationEvent
from posegen.kit.time import utcnow
from posegen.work.kinds.pose import claim_pose
from posegen.work.release import release
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import open_client
from tests.generation.helpers import P, Scene, scene, wait_finished
from tests.work.processes import free_port, process_env, worker_process

GRACE = 2.0
# Start-up is not timed; from SIGTERM to exit a process needs the grace plus its own teardown.
TEARDOWN_SECONDS = 6.0
SLOW = "30000"  # a render this long cannot finish within GRACE


async def submit(db: Database, settings: Settings, world: Scene, poses: int) -> str:
    """A generation of `poses` sleep-engine poses, submitted through the in-process API."""
    app_settings = settings.model_copy(
        update={"engines": settings.engines.model_copy(update={"enable_sleep": True})}
    )
    async for client in open_client(create_app(app_settings, embed_worker=False)):
        accepted = await client.post(f"{P}/generate", headers=world.headers, json=body(world, poses))
        assert accepted.status_code == 202, accepted.text
        return str(accepted.json()["generationId"])
    raise AssertionError("unreachable")


def body(world: Scene, poses: int) -> dict[str, object]:
    return {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "engine": "sleep",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": poses,
        "quality": "draft",
    }


async def poses_of(db: Database, generation_id: str) -> list[GeneratedPose]:
    async with db.session(write=False) as session:
        return list(
            await session.scalars(
                select(GeneratedPose)
                .where(GeneratedPose.generation_id == generation_id)
                .order_by(GeneratedPose.variation_index)
            )
        )


async def wait_running(db: Database, generation_id: str, count: int, within: float = 60) -> set[str]:
    """The ids of the poses running once `count` of them are."""
    deadline = time.monotonic() + within
    while True:
        running = {pose.id for pose in await poses_of(db, generation_id) if pose.status == "running"}
        if len(running) >= count:
            return running
        assert time.monotonic() < deadline, "the poses never started"
        await asyncio.sleep(0.05)


def terminate(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """SIGTERM; the exit status and the seconds until the process exited."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=60)
    return status, time.monotonic() - started


async def completed_variations(db: Database, generation_id: str) -> list[str]:
    async with db.session(write=False) as session:
        rows = await session.scalars(
            select(GenerationEvent.data).where(
                GenerationEvent.generation_id == generation_id, GenerationEvent.kind == "pose.completed"
            )
        )
        return [data["variationKey"] for data in rows]


async def assert_completed_once(db: Database, world: Scene, generation_id: str, poses: int) -> None:
    """Every variation completed exactly once, no attempt counted twice, money and invariants right."""
    generation = await wait_finished(db, generation_id, within=60)
    assert generation.status == "completed" and generation.poses_completed == poses
    variations = await completed_variations(db, generation_id)
    assert len(variations) == poses == len(set(variations))
    assert [pose.attempts for pose in await poses_of(db, generation_id)] == [1] * poses
    assert await balance_of(db, world.user.id) == 10_000 - poses * 15 == await ledger_sum(db, world.user.id)
    assert all(finding.ok for finding in await examine(db))


async def assert_released(db: Database, generation_id: str, running: set[str]) -> None:
    """The poses cut short are queued again at once with their attempt not counted."""
    now = utcnow()
    poses = await poses_of(db, generation_id)
    assert {pose.status for pose in poses} == {"queued"}, [pose.status for pose in poses]
    for pose in poses:
        assert pose.attempts == 0, (pose.id, pose.id in running, pose.attempts)
        assert pose.lease_owner is None and pose.lease_expires_at is None
        assert pose.available_at <= now
    async with db.session(write=False) as session:
        events = await session.scalar(
            select(func.count())
            .select_from(GenerationEvent)
            .where(
                GenerationEvent.generation_id == generation_id,
                GenerationEvent.kind.in_(["pose.failed", "pose.completed"]),
            )
        )
    assert events == 0  # released poses are simply queued again: no outcome, no event


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_sigterm_releases_running_poses_after_the_grace_and_another_worker_completes_them(
    db: Database, settings: Settings, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    world = await scene(db, settings, poses=1)
    generation_id = await submit(db, settings, world, poses=4)
    env = process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS=SLOW,
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1",
        POSEGEN_WORK_SHUTDOWN_GRACE_SECONDS=str(GRACE),
        POSEGEN_LOG_LEVEL="INFO",
    )
    log = tmp_path / "worker.log"
    with worker_process(env, concurrency=2, log=log) as first:
        running = await wait_running(db, generation_id, 2)
        status, elapsed = terminate(first)
    assert status == 0, log.read_text()
    assert GRACE - 0.2 <= elapsed < GRACE + TEARDOWN_SECONDS, elapsed  # waited the grace, not longer
    assert '"released_poses": 2' in log.read_text()
    await assert_released(db, generation_id, running)

    fast = {**env, "POSEGEN_ENGINES_SLEEP_LATENCY_MS": "50"}
    with worker_process(fast, concurrency=2):
        await assert_completed_once(db, world, generation_id, poses=4)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_sigterm_lets_running_poses_finish_within_the_grace(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    generation_id = await submit(db, settings, world, poses=4)
    env = process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS="1500",
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1",
        POSEGEN_WORK_SHUTDOWN_GRACE_SECONDS="20",
    )
    with worker_process(env, concurrency=2) as first:
        running = await wait_running(db, generation_id, 2)
        status, elapsed = terminate(first)
    assert status == 0
    assert elapsed < 1.5 + TEARDOWN_SECONDS  # it waited for the renders, not for the whole grace
    poses = {pose.id: pose for pose in await poses_of(db, generation_id)}
    # The two running at SIGTERM were completed by this worker; it claimed nothing after it.
    assert {pose_id for pose_id, pose in poses.items() if pose.status == "completed"} == running
    assert all(poses[pose_id].attempts == 1 for pose_id in running)
    assert all(
        pose.status == "queued" and pose.attempts == 0 for pose in poses.values() if pose.id not in running
    )

    with worker_process({**env, "POSEGEN_ENGINES_SLEEP_LATENCY_MS": "50"}, concurrency=2):
        await assert_completed_once(db, world, generation_id, poses=4)


@contextmanager
def serve_process(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`posegen serve` with its embedded worker on a free port, once it answers."""
    port = free_port()
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "posegen", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}{P}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
            yield process, url
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_sigterm_to_serve_releases_its_embedded_workers_poses_and_exits_0(
    db: Database, settings: Settings, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    world = await scene(db, settings, poses=1)
    env = process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS=SLOW,
        POSEGEN_WORK_CONCURRENCY="2",
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1",
        POSEGEN_WORK_SHUTDOWN_GRACE_SECONDS=str(GRACE),
    )
    log = tmp_path / "serve.log"
    with serve_process(env, log) as (server, url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            accepted = await client.post(f"{P}/generate", headers=world.headers, json=body(world, 3))
            assert accepted.status_code == 202, accepted.text
        generation_id = accepted.json()["generationId"]
        running = await wait_running(db, generation_id, 2)
        status, elapsed = terminate(server)
    assert status == 0, log.read_text()  # not 143: a clean drain is a success
    assert GRACE - 0.2 <= elapsed < GRACE + TEARDOWN_SECONDS, elapsed
    await assert_released(db, generation_id, running)

    with worker_process({**env, "POSEGEN_ENGINES_SLEEP_LATENCY_MS": "50"}, concurrency=2):
        await assert_completed_once(db, world, generation_id, poses=3)


# -- the release itself, on both databases ---------------------------------------------------------


async def claim_all(db: Database, worker_id: str, count: int) -> list[GeneratedPose]:
    claimed = []
    for _ in range(count):
        pose = await db.run(lambda session: claim_pose(session, worker_id, ["sleep"], utcnow(), 60))
        assert pose is not None
        claimed.append(pose)
    return claimed


async def test_release_requeues_only_the_workers_own_leases_without_counting_the_attempt(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    generation_id = await submit(db, settings, world, poses=3)
    mine = await claim_all(db, "stopping", 2)
    theirs = await claim_all(db, "other", 1)

    released = await db.run(lambda session: release(session, "stopping", utcnow()))
    assert (released.poses, released.changes) == (2, 0)
    again = await db.run(lambda session: release(session, "stopping", utcnow()))
    assert (again.poses, again.changes) == (0, 0)  # nothing held any more: a repeat changes nothing

    poses = {pose.id: pose for pose in await poses_of(db, generation_id)}
    for pose in mine:
        row = poses[pose.id]
        assert (row.status, row.attempts, row.lease_owner, row.lease_expires_at) == ("queued", 0, None, None)
    other = poses[theirs[0].id]
    assert (other.status, other.attempts, other.lease_owner) == ("running", 1, "other")
    # Claimable at once, and the next claim counts the attempt once.
    reclaimed = await claim_all(db, "successor", 2)
    assert {pose.id for pose in reclaimed} == {pose.id for pose in mine}
    assert all(pose.attempts == 1 for pose in reclaimed)


async def test_release_cancels_the_poses_of_a_generation_cancelled_meanwhile(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    generation_id = await submit(db, settings, world, poses=2)
    await claim_all(db, "stopping", 2)
    async with db.session() as session:
        generation = await session.get(Generation, generation_id)
        assert generation is not None
        generation.cancel_requested = True  # what a cancel leaves for running poses' checkpoints

    released = await db.run(lambda session: release(session, "stopping", utcnow()))
    assert released.poses == 2
    generation = await wait_finished(db, generation_id, within=1)
    assert generation.status == "canceled" and generation.poses_canceled == 2
    assert generation.credit_refunded == 2 * 15
    assert await balance_of(db, world.user.id) == 10_000 == await ledger_sum(db, world.user.id)
    assert all(finding.ok for finding in await examine(db))


async def test_release_leaves_a_pose_another_worker_took_over(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    generation_id = await submit(db, settings, world, poses=1)
    await claim_all(db, "stopping", 1)
    # The stopping worker's lease expired and another worker claimed the pose (attempt 2).
    async with db.session() as session:
        pose = await session.scalar(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id))
        assert pose is not None
        pose.lease_expires_at = utcnow() - timedelta(seconds=1)
    await claim_all(db, "successor", 1)

    released = await db.run(lambda session: release(session, "stopping", utcnow()))
    assert released.poses == 0
    [row] = await poses_of(db, generation_id)
    assert (row.status, row.attempts, row.lease_owner) == ("running", 2, "successor")
