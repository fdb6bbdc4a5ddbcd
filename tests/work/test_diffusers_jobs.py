"""The `diffusers` engine as users run it: a real `posegen serve` loads a (tiny, random-weight) SD 1.5
+ ControlNet model from local directories and renders queued poses in batches, each pose settling
on its own."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.generation.models import GeneratedPose, GenerationEvent
from posegen.work import repository
from tests.credits.helpers import balance_of, ledger_sum
from tests.engines.tiny_diffusers import write_tiny_models
from tests.generation.helpers import P, scene, wait_finished
from tests.work.processes import api_server, process_env

pytestmark = pytest.mark.slow


async def pause(db: Database, *, paused: bool) -> None:
    async with db.session() as session:
        await repository.set_paused(session, paused)


async def test_a_batch_of_four_poses_renders_in_one_pass_and_settles_as_four_poses(
    db: Database, settings: Settings, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    models = write_tiny_models(tmp_path / "models", seed=0)
    world = await scene(db, settings, poses=2)
    env = process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_DIFFUSERS_ENABLED="true",
        POSEGEN_ENGINES_DIFFUSERS_BASE_MODEL=str(models.base),
        POSEGEN_ENGINES_DIFFUSERS_CONTROLNET=str(models.controlnet),
        POSEGEN_ENGINES_DIFFUSERS_DEVICE="cpu",
        POSEGEN_ENGINES_DIFFUSERS_STEPS_DRAFT="2",
        POSEGEN_WORK_CONCURRENCY="1",
        POSEGEN_WORK_BATCH_SIZE="4",
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1",
        POSEGEN_LOG_LEVEL="INFO",
        HF_HUB_OFFLINE="1",  # everything is local: nothing may be downloaded
        OMP_NUM_THREADS="1",
    )
    log = tmp_path / "serve.log"
    with api_server(env, worker=True, log=log) as (url, _pid):
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            engines = (await client.get(f"{P}/engines", headers=world.headers)).json()["engines"]
            # Queued with the queue paused, so the worker finds all four at once.
            await pause(db, paused=True)
            accepted = await client.post(
                f"{P}/generate",
                headers=world.headers,
                json={
                    "projectId": world.project.id,
                    "generationType": "GALLERY_REFERENCE",
                    "engine": "diffusers",
                    "selectedPoseIds": [pose.id for pose in world.poses],
                    "batchSize": 2,
                    "quality": "draft",
                },
            )
            assert accepted.status_code == 202, accepted.text
            generation_id = accepted.json()["generationId"]
            await pause(db, paused=False)
            generation = await wait_finished(db, generation_id, within=180)
            body = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
            images = [
                Image.open(io.BytesIO((await client.get(pose["imageUrl"])).content))
                for pose in body["generation"]["poses"]
            ]

    diffusers = {engine["name"]: engine for engine in engines}["diffusers"]
    assert diffusers["available"] and diffusers["supportsControlImage"]
    assert diffusers["model"]["baseModel"] == str(models.base) and diffusers["model"]["device"] == "cpu"
    assert generation.status == "completed"
    lines = [line for line in log.read_text().splitlines() if line.startswith("{")]
    renders = [json.loads(line) for line in lines if '"diffusers_render"' in line]
    assert [render["batch"] for render in renders] == [4]  # one pass for the four poses
    async with db.session(write=False) as session:
        rows = list(
            await session.scalars(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id))
        )
        completed = list(
            await session.scalars(
                select(GenerationEvent.data).where(
                    GenerationEvent.generation_id == generation_id, GenerationEvent.kind == "pose.completed"
                )
            )
        )
    assert len(rows) == 4 and all(row.status == "completed" and row.attempts == 1 for row in rows)
    assert len({row.image_key for row in rows}) == 4 and len(completed) == 4
    assert all(image.size == (512, 512) for image in images)
    assert len({image.tobytes() for image in images}) == 4  # each pose its own picture
    assert await balance_of(db, world.user.id) == 10_000 - 4 * 15 == await ledger_sum(db, world.user.id)
