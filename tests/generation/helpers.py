"""Shared set-up for generation tests: a user with credits, a project, library poses, a worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import select

from posegen.auth.models import User
from posegen.config import Settings
from posegen.db import Database
from posegen.engines.registry import EngineRegistry
from posegen.generation.models import Generation
from posegen.library.models import Pose
from posegen.projects.models import Project
from posegen.storage.factory import create_storage
from posegen.work.worker import Worker
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_category, create_pose, create_project, create_user, grant

P = "/api/apps/pose-generator"


@dataclass
class Scene:
    user: User
    headers: dict[str, str]
    project: Project
    poses: list[Pose]


async def scene(db: Database, settings: Settings, credits: int = 10_000, poses: int = 3) -> Scene:
    user = await create_user(db)
    if credits:
        await grant(db, user, credits)
    project = await create_project(db, user, gender="female", style="casual")
    category = await create_category(db, f"cat-{user.id[-6:].lower()}")
    made = [
        await create_pose(db, category, f"Standing Pose {index}", tags=("standing",))
        for index in range(poses)
    ]
    return Scene(user, bearer(token_for(settings, user)), project, made)


@asynccontextmanager
async def running_worker(
    db_url: str, settings: Settings, worker_id: str = "test-worker"
) -> AsyncIterator[Worker]:
    """An in-process worker on its own engine and pool, stopped at the end of the block."""
    database = Database.from_settings(settings.model_copy(update={"database": settings.database}))
    registry = EngineRegistry.from_settings(settings)
    worker = Worker(database, create_storage(settings), registry.engines, settings, worker_id=worker_id)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        yield worker
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await registry.aclose()
        await database.dispose()


async def wait_finished(db: Database, generation_id: str, within: float = 60) -> Generation:
    deadline = time.monotonic() + within
    while True:
        async with db.session(write=False) as session:
            generation = await session.scalar(select(Generation).where(Generation.id == generation_id))
        assert generation is not None
        if generation.status in ("completed", "partial", "failed", "canceled"):
            return generation
        assert time.monotonic() < deadline, f"generation still {generation.status}"
        await asyncio.sleep(0.1)


async def submit(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object]
) -> httpx.Response:
    return await client.post(f"{P}/generate", json=body, headers=headers)
