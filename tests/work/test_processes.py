"""Separate API and worker processes on PostgreSQL: end to end, a killed worker, two racing workers."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.engines.mannequin import render_sync
from posegen.generation.models import GeneratedPose, Generation, GenerationEvent
from posegen.imaging.control_map import limb_color
from posegen.kit.openpose import LIMBS, Point
from posegen.projects.models import Project
from posegen.work.inputs import render_request
from tests.credits.helpers import balance_of, ledger_sum
from tests.generation.helpers import P, Scene, scene, wait_finished
from tests.work.processes import api_process, process_env, worker_process

# Cross-process work is the scaled profile: PostgreSQL only.
pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]


def assert_control_map_matches(control: Image.Image, pixels: Sequence[Point]) -> None:
    """Every limb's colour lies along the segment between its joints where the mannequin drew them
    (`pixels`: the engine's own output keypoints for that variation, its take's framing included)."""
    width, height = control.size
    rgb = control.convert("RGB")
    for index, (a, b) in enumerate(LIMBS):
        if pixels[a][2] <= 0 or pixels[b][2] <= 0:
            continue
        if abs(pixels[a][0] - pixels[b][0]) + abs(pixels[a][1] - pixels[b][1]) < 24:
            continue  # face limbs this short are covered by their joints' dots
        mx = round((pixels[a][0] + pixels[b][0]) / 2)
        my = round((pixels[a][1] + pixels[b][1]) / 2)
        window = [
            rgb.getpixel((x, y))
            for x in range(mx - 2, mx + 3)
            for y in range(my - 2, my + 3)
            if 0 <= x < width and 0 <= y < height
        ]
        assert limb_color(index) in window, f"limb {index} not drawn where the pose puts it"


async def test_end_to_end_with_api_and_worker_processes(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=3)
    env = process_env(database_url, data_dir, POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1")
    with api_process(env) as url, worker_process(env, concurrency=2):
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            gallery = await client.post(
                f"{P}/generate",
                headers=world.headers,
                json={
                    "projectId": world.project.id,
                    "generationType": "GALLERY_REFERENCE",
                    "selectedPoseIds": [pose.id for pose in world.poses],
                    "batchSize": 2,
                    "quality": "draft",
                    "outputFormats": ["instagram_feed", "twitter_post"],
                },
            )
            text = await client.post(
                f"{P}/generate",
                headers=world.headers,
                json={
                    "projectId": world.project.id,
                    "generationType": "TEXT_DESCRIPTION",
                    "textPrompt": "a confident standing pose",
                    "variationCount": 4,
                    "quality": "draft",
                    "outputFormats": ["pinterest_pin"],
                },
            )
            assert gallery.status_code == text.status_code == 202, (gallery.text, text.text)
            cases = [
                (
                    gallery.json()["generationId"],
                    6,
                    {"instagram_feed": (1080, 1080), "twitter_post": (1200, 675)},
                ),
                (text.json()["generationId"], 4, {"pinterest_pin": (1000, 1500)}),
            ]
            slugs = {pose.id: pose.slug for pose in world.poses}
            for generation_id, count, exports in cases:
                generation = await wait_finished(db, generation_id, within=120)
                assert generation.status == "completed"
                body = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
                poses = body["generation"]["poses"]
                assert len(poses) == count
                async with db.session(write=False) as session:
                    generation_row = await session.get(Generation, generation_id)
                    assert generation_row is not None
                    project = await session.get(Project, generation_row.project_id)
                    stored = {
                        row.id: row
                        for row in await session.scalars(
                            select(GeneratedPose).where(GeneratedPose.generation_id == generation_id)
                        )
                    }
                for pose in poses:
                    image = Image.open(io.BytesIO((await client.get(pose["imageUrl"])).content))
                    assert image.size == (512, 512)
                    thumb = Image.open(io.BytesIO((await client.get(pose["thumbnailUrl"])).content))
                    assert thumb.format == "WEBP" and max(thumb.size) == 400
                    control = Image.open(io.BytesIO((await client.get(pose["controlMapUrl"])).content))
                    # The request the worker built for this variation, rendered again here: the mannequin
                    # is deterministic, so its output keypoints are where the control map's limbs lie.
                    request = render_request(stored[pose["id"]], generation_row, project, None)
                    drawn = render_sync(request).pixel_points
                    assert drawn is not None
                    assert_control_map_matches(control, drawn)
                    for key, size in exports.items():
                        export = Image.open(io.BytesIO((await client.get(pose["exports"][key])).content))
                        assert export.size == size
                # The default ZIP: each pose's original and the formats the generation asked for.
                archive = await client.get(
                    f"{P}/generations/{generation_id}/export-zip", headers=world.headers
                )
                assert archive.status_code == 200
                assert (
                    archive.headers["content-disposition"]
                    == f'attachment; filename="poses-{generation_id}.zip"'
                )
                # One folder per pose: its library pose's slug and its variation's number.
                folders = [
                    f"{slugs[pose['poseId']]}-v{pose['variationKey'].rsplit('-v', 1)[1]}" for pose in poses
                ]
                assert len(set(folders)) == count
                sizes = {"original.png": (512, 512)} | {f"{key}.jpg": size for key, size in exports.items()}
                expected = {f"{folder}/{name}": size for folder in folders for name, size in sizes.items()}
                with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
                    assert sorted(opened.namelist()) == sorted(expected)
                    for name, size in expected.items():
                        with Image.open(io.BytesIO(opened.read(name))) as member:
                            assert member.size == size
    assert all(finding.ok for finding in await examine(db))


async def completed_variations(db: Database, generation_id: str) -> list[str]:
    async with db.session(write=False) as session:
        events = await session.scalars(
            select(GenerationEvent.data).where(
                GenerationEvent.generation_id == generation_id, GenerationEvent.kind == "pose.completed"
            )
        )
        return [data["variationKey"] for data in events]


async def test_killed_worker_is_replaced_after_its_leases_expire(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    env = process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS="1500",
        POSEGEN_WORK_LEASE_SECONDS="2",
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1",
        POSEGEN_WORK_RECONCILE_INTERVAL_SECONDS="1",
    )
    with api_process(env) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            accepted = await client.post(
                f"{P}/generate",
                headers=world.headers,
                json={
                    "projectId": world.project.id,
                    "generationType": "GALLERY_REFERENCE",
                    "engine": "sleep",
                    "selectedPoseIds": [world.poses[0].id],
                    "batchSize": 6,
                    "quality": "draft",
                },
            )
            assert accepted.status_code == 202, accepted.text
            generation_id = accepted.json()["generationId"]
        with worker_process(env, concurrency=2) as doomed:
            while True:  # wait until it holds leases mid-render
                async with db.session(write=False) as session:
                    running = await session.scalar(
                        select(func.count())
                        .select_from(GeneratedPose)
                        .where(
                            GeneratedPose.generation_id == generation_id, GeneratedPose.status == "running"
                        )
                    )
                if running:
                    break
                await asyncio.sleep(0.05)
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait()
        with worker_process(env, concurrency=2):
            generation = await wait_finished(db, generation_id, within=120)
    assert generation.status == "completed"
    variations = await completed_variations(db, generation_id)
    assert sorted(variations) == sorted(set(variations)) and len(variations) == 6
    async with db.session(write=False) as session:
        attempts = list(
            await session.scalars(
                select(GeneratedPose.attempts).where(GeneratedPose.generation_id == generation_id)
            )
        )
    assert max(attempts) >= 2  # the killed worker's poses ran again
    assert await balance_of(db, world.user.id) == 10_000 - 6 * 15 == await ledger_sum(db, world.user.id)
    assert all(finding.ok for finding in await examine(db))


async def test_two_workers_race_over_200_poses(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=20)
    env = process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS="20",
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.05",
    )
    with api_process(env) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            accepted = await client.post(
                f"{P}/generate",
                headers=world.headers,
                json={
                    "projectId": world.project.id,
                    "generationType": "GALLERY_REFERENCE",
                    "engine": "sleep",
                    "selectedPoseIds": [pose.id for pose in world.poses],
                    "batchSize": 10,
                    "quality": "draft",
                },
            )
            assert accepted.status_code == 202, accepted.text
        generation_id = accepted.json()["generationId"]
        with worker_process(env, concurrency=4), worker_process(env, concurrency=4):
            generation = await wait_finished(db, generation_id, within=180)
    assert generation.status == "completed"
    assert generation.poses_completed == 200
    variations = await completed_variations(db, generation_id)
    assert len(variations) == 200 == len(set(variations))
    assert all(finding.ok for finding in await examine(db))


async def completed_of(db: Database, generation_id: str) -> int:
    async with db.session(write=False) as session:
        value = await session.scalar(
            select(func.count())
            .select_from(GeneratedPose)
            .where(GeneratedPose.generation_id == generation_id, GeneratedPose.status == "completed")
        )
        return int(value or 0)


async def test_cancel_of_500_poses_while_two_workers_claim(
    db: Database, settings: Settings, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    big = await scene(db, settings, poses=50, credits=100_000)
    other = await scene(db, settings, poses=20)
    env = process_env(
        database_url,
        data_dir,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS="100",
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.05",
        POSEGEN_LOG_LEVEL="INFO",
    )
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]

    def body(world: Scene) -> dict[str, object]:
        return {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "engine": "sleep",
            "selectedPoseIds": [pose.id for pose in world.poses],
            "batchSize": 10,
            "quality": "draft",
        }

    with api_process(env) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            large = await client.post(f"{P}/generate", headers=big.headers, json=body(big))
            small = await client.post(f"{P}/generate", headers=other.headers, json=body(other))
            assert large.status_code == small.status_code == 202
            large_id, small_id = large.json()["generationId"], small.json()["generationId"]
            with (
                worker_process(env, concurrency=4, log=logs[0]),
                worker_process(env, concurrency=4, log=logs[1]),
            ):
                while await completed_of(db, small_id) < 10 or await completed_of(db, large_id) < 5:  # noqa: ASYNC110 - other processes' rows
                    await asyncio.sleep(0.05)
                others_before = await completed_of(db, small_id)
                started = time.monotonic()
                canceled = await client.post(f"{P}/generations/{large_id}/cancel", headers=big.headers)
                elapsed = time.monotonic() - started
                assert canceled.status_code == 200, canceled.text
                await asyncio.sleep(1)
                others_during = await completed_of(db, small_id)
                finished_large = await wait_finished(db, large_id, within=30)
                finished_small = await wait_finished(db, small_id, within=120)

    assert elapsed < 2, elapsed
    assert others_during > others_before or others_before == 200  # the other user's poses kept going
    assert finished_large.status == "canceled"
    assert finished_small.status == "completed" and finished_small.poses_completed == 200
    done = finished_large.poses_completed
    assert finished_large.poses_canceled == 500 - done
    assert await balance_of(db, big.user.id) == 100_000 - done * 15 == await ledger_sum(db, big.user.id)
    text = "".join(log.read_text() for log in logs)
    assert text.count("worker_started") == 2  # the logs were written (at INFO)
    assert "claim_failed" not in text
    assert "40P01" not in text and "deadlock" not in text.lower()
    assert all(finding.ok for finding in await examine(db))
