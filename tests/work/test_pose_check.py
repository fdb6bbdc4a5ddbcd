"""The pose check in the worker, on both databases: a real mannequin render of the requested pose
passes; an engine that draws another pose is re-rendered free of charge until it passes, or ends as
the setting says (delivered flagged, or refunded); a switched-off check is skipped; an exact engine is
scored but never re-rendered.

The detector is the real one (BlazePose from the `vision` extra); the wrong images are real mannequin
renders of another library pose. Each test drives its worker one job at a time (`run_once`).
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.engines.base import RenderContext, RenderRequest, RenderResult
from posegen.engines.mannequin import MannequinEngine
from posegen.engines.registry import EngineRegistry
from posegen.engines.sleep import SleepEngine
from posegen.library.poses import POSES, PoseSpec
from posegen.observability.prometheus import PROCESS as METRICS
from posegen.storage.factory import create_storage
from posegen.vision import detection
from posegen.work import pose_check
from posegen.work.pose_check import rerender_seed
from posegen.work.side_threads import SideThreads
from posegen.work.worker import Worker
from tests.credits.helpers import balance_of, entries_of, ledger_sum
from tests.fixtures.app import open_client
from tests.generation.helpers import P, scene, submit
from tests.work.test_background_changes import events_of, pose_row, run_once

# Another pose than the tests' standing figure: arms out to the sides in a wide lunge.
WARRIOR: PoseSpec = next(spec for spec in POSES if spec.slug == "warrior-ii")
# The generation's seed, fixed: a correct mannequin render of the standing pose scores 0.33–0.96
# depending on the seed (lighting and the variation's small perturbation; the detector's misses make
# the low tail), and with this seed the first render and its re-renders score 0.93, 0.96 and 0.94.
# Warrior II against the standing keypoints scores at most 0.30 over 40 seeds, detected with
# confidence 0.99 or more.
SEED = 1011


class OtherPoseFirst(MannequinEngine):
    """A stand-in for a generative engine that ignored its control image: its first `wrong` renders
    show the mannequin of another library pose, later ones the requested pose. Like the ControlNet
    engines it neither claims to draw the pose exactly nor says where its figure is."""

    draws_pose_exactly = False

    def __init__(self, other: PoseSpec, wrong: int = 1) -> None:
        self.other = other
        self.wrong = wrong
        self.seeds: list[int] = []

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        self.seeds.append(request.seed)
        if len(self.seeds) <= self.wrong:
            request = replace(request, points=self.other.keypoints.points, depth=self.other.keypoints.depth)
        rendered = await super().render(request, context)
        return RenderResult(image=rendered.image, mask=rendered.mask)


class ExactOtherPose(OtherPoseFirst):
    """The same wrong figure from an engine that claims to draw every pose exactly."""

    draws_pose_exactly = True


@dataclass
class Submitted:
    generation_id: str
    pose_id: str
    user_id: str
    headers: dict[str, str]
    charged: int
    balance: int  # after the charge
    entries: int  # ledger rows after the charge


async def submit_one(client: httpx.AsyncClient, db: Database, settings: Settings) -> Submitted:
    world = await scene(db, settings, poses=1)
    response = await submit(
        client,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 1,
            "quality": "draft",
            "seed": SEED,
        },
    )
    assert response.status_code == 202, response.text
    generation_id = response.json()["generationId"]
    detail = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
    charged = int(detail["generation"]["creditCharged"])
    assert charged > 0
    return Submitted(
        generation_id=generation_id,
        pose_id=str(detail["generation"]["poses"][0]["id"]),
        user_id=world.user.id,
        headers=world.headers,
        charged=charged,
        balance=await balance_of(db, world.user.id),
        entries=len(await entries_of(db, world.user.id)),
    )


def with_quality(settings: Settings, **quality: Any) -> Settings:
    return settings.model_copy(update={"quality": settings.quality.model_copy(update=quality)})


async def work(db: Database, settings: Settings, engine: MannequinEngine) -> None:
    """Run the one queued pose to its outcome with `engine` as the worker's mannequin."""
    worker = Worker(db, create_storage(settings), {"mannequin": engine}, settings, worker_id="check-worker")
    assert await run_once(worker) is not None
    assert await run_once(worker) is None


async def api_pose(client: httpx.AsyncClient, submitted: Submitted) -> dict[str, Any]:
    response = await client.get(f"{P}/generations/{submitted.generation_id}", headers=submitted.headers)
    assert response.status_code == 200, response.text
    poses: list[dict[str, Any]] = response.json()["generation"]["poses"]
    return poses[0]


async def event_data(db: Database, generation_id: str, kind: str) -> dict[str, Any]:
    found = [event.data for event in await events_of(db, generation_id) if event.kind == kind]
    assert len(found) == 1, kind
    return found[0]


def checks_counted(engine: str, check: str) -> float:
    value = METRICS.registry.get_sample_value("posegen_pose_checks_total", {"engine": engine, "check": check})
    return value or 0.0


def rerenders_counted(engine: str) -> float:
    return METRICS.registry.get_sample_value("posegen_pose_rerenders_total", {"engine": engine}) or 0.0


async def assert_charged_once(db: Database, submitted: Submitted) -> None:
    """Balance and ledger exactly as the submission left them: nothing more charged or refunded."""
    assert await balance_of(db, submitted.user_id) == submitted.balance
    assert len(await entries_of(db, submitted.user_id)) == submitted.entries
    assert await ledger_sum(db, submitted.user_id) == submitted.balance
    assert all(finding.ok for finding in await examine(db))


async def test_a_mannequin_render_of_the_requested_pose_scores_high_and_passes(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    submitted = await submit_one(client, db, settings)
    passed_before = checks_counted("mannequin", "passed")
    await work(db, settings, MannequinEngine())

    row = await pose_row(db, submitted.pose_id)
    assert (row.status, row.pose_check, row.rerenders) == ("completed", "passed", 0)
    assert row.pose_score is not None and row.pose_score >= 0.8
    assert row.detected_keypoints is not None and row.detected_keypoints["format"] == "openpose-18"
    assert len(row.detected_keypoints["points"]) == 18

    pose = await api_pose(client, submitted)
    assert (pose["poseScore"], pose["poseCheck"], pose["rerenders"]) == (row.pose_score, "passed", 0)
    assert pose["detectedKeypoints"] == row.detected_keypoints
    completed = await event_data(db, submitted.generation_id, "pose.completed")
    assert (completed["poseScore"], completed["poseCheck"], completed["rerenders"]) == (
        row.pose_score,
        "passed",
        0,
    )
    assert completed["detectedKeypoints"] == row.detected_keypoints
    assert checks_counted("mannequin", "passed") == passed_before + 1
    await assert_charged_once(db, submitted)


async def test_another_pose_scores_low_and_is_re_rendered_free_until_it_passes(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    submitted = await submit_one(client, db, settings)
    first_seed = (await pose_row(db, submitted.pose_id)).seed
    rerenders_before = rerenders_counted("mannequin")
    engine = OtherPoseFirst(WARRIOR)
    await work(db, settings, engine)

    # The first image (the other pose) failed the check, so the pose was rendered again with a new seed.
    assert engine.seeds == [first_seed, rerender_seed(first_seed, 1)]
    row = await pose_row(db, submitted.pose_id)
    assert (row.status, row.pose_check, row.rerenders) == ("completed", "passed", 1)
    assert row.pose_score is not None and row.pose_score >= 0.8
    assert row.seed == rerender_seed(first_seed, 1)  # the delivered image's seed
    completed = await event_data(db, submitted.generation_id, "pose.completed")
    assert (completed["poseCheck"], completed["rerenders"]) == ("passed", 1)
    assert rerenders_counted("mannequin") == rerenders_before + 1
    await assert_charged_once(db, submitted)


async def test_a_pose_that_keeps_failing_is_delivered_flagged_by_default(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    assert settings.quality.on_failed_check == "deliver_flagged"
    submitted = await submit_one(client, db, settings)
    engine = OtherPoseFirst(WARRIOR, wrong=10)
    await work(db, settings, engine)

    assert len(engine.seeds) == 1 + settings.quality.max_rerenders
    row = await pose_row(db, submitted.pose_id)
    assert (row.status, row.pose_check, row.rerenders) == (
        "completed",
        "failed",
        settings.quality.max_rerenders,
    )
    assert row.pose_score is not None and row.pose_score < settings.quality.min_pose_score
    assert row.image_key is not None and not row.refunded
    pose = await api_pose(client, submitted)
    assert (pose["status"], pose["poseCheck"], pose["poseScore"]) == ("completed", "failed", row.pose_score)
    await assert_charged_once(db, submitted)


async def test_a_pose_that_keeps_failing_is_refunded_when_the_setting_says_so(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    refunding = with_quality(settings, on_failed_check="refund", max_rerenders=2)
    submitted = await submit_one(client, db, refunding)
    engine = OtherPoseFirst(WARRIOR, wrong=10)
    await work(db, refunding, engine)

    assert len(engine.seeds) == 3
    row = await pose_row(db, submitted.pose_id)
    assert (row.status, row.error_code, row.refunded) == ("failed", "POSE_CHECK_FAILED", True)
    assert (row.pose_check, row.rerenders, row.image_key) == ("failed", 2, None)
    assert row.pose_score is not None and row.pose_score < refunding.quality.min_pose_score
    failed = await event_data(db, submitted.generation_id, "pose.failed")
    assert failed == {
        "poseId": submitted.pose_id,
        "variationKey": row.variation_key,
        "errorCode": "POSE_CHECK_FAILED",
        "refunded": submitted.charged,
    }
    # One refund row through the usual path: the balance is back where it was before the charge.
    assert await balance_of(db, submitted.user_id) == submitted.balance + submitted.charged
    assert len(await entries_of(db, submitted.user_id)) == submitted.entries + 1
    assert await ledger_sum(db, submitted.user_id) == submitted.balance + submitted.charged
    assert all(finding.ok for finding in await examine(db))


async def test_a_switched_off_check_is_skipped_and_never_re_renders(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    off = with_quality(settings, pose_check=False)
    submitted = await submit_one(client, db, off)
    engine = OtherPoseFirst(WARRIOR)
    await work(db, off, engine)

    assert len(engine.seeds) == 1
    row = await pose_row(db, submitted.pose_id)
    assert (row.status, row.pose_check, row.pose_score, row.detected_keypoints, row.rerenders) == (
        "completed",
        "skipped",
        None,
        None,
        0,
    )
    pose = await api_pose(client, submitted)
    assert (pose["poseCheck"], pose["poseScore"], pose["detectedKeypoints"]) == ("skipped", None, None)
    await assert_charged_once(db, submitted)


@pytest.mark.parametrize("setting", ["deliver_flagged", "refund"])
async def test_an_exact_engine_is_scored_but_never_re_rendered_or_refunded(
    client: httpx.AsyncClient, db: Database, settings: Settings, setting: str
) -> None:
    exact = with_quality(settings, on_failed_check=setting)
    submitted = await submit_one(client, db, exact)
    engine = ExactOtherPose(WARRIOR)
    await work(db, exact, engine)

    assert len(engine.seeds) == 1
    row = await pose_row(db, submitted.pose_id)
    # A low score from an engine that draws the keypoints by construction is the detector's miss.
    assert (row.status, row.pose_check, row.rerenders) == ("completed", "inconclusive", 0)
    assert row.pose_score is not None and row.pose_score < exact.quality.min_pose_score
    await assert_charged_once(db, submitted)


async def test_an_engine_that_draws_no_figure_is_skipped(db: Database, settings: Settings) -> None:
    sleepy = settings.model_copy(
        update={"engines": settings.engines.model_copy(update={"enable_sleep": True})}
    )
    world = await scene(db, sleepy, poses=1)
    async for client in open_client(create_app(sleepy, embed_worker=False)):
        response = await submit(
            client,
            world.headers,
            {
                "projectId": world.project.id,
                "generationType": "GALLERY_REFERENCE",
                "selectedPoseIds": [world.poses[0].id],
                "batchSize": 1,
                "quality": "draft",
                "engine": "sleep",
                "seed": SEED,
            },
        )
        assert response.status_code == 202, response.text
        registry = EngineRegistry.from_settings(sleepy)
        worker = Worker(db, create_storage(sleepy), registry.engines, sleepy, worker_id="check-worker")
        try:
            assert await run_once(worker) is not None
        finally:
            await registry.aclose()
        detail = await client.get(f"{P}/generations/{response.json()['generationId']}", headers=world.headers)
        pose = detail.json()["generation"]["poses"][0]
        assert (pose["status"], pose["poseCheck"], pose["poseScore"]) == ("completed", "skipped", None)
        assert (pose["detectedKeypoints"], pose["rerenders"]) == (None, 0)


async def test_a_worker_builds_the_detector_at_start_when_checks_will_run(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detection, "_solution", None)  # as in a fresh worker process
    built = threading.Event()

    def warm_up() -> bool:
        try:
            return detection.warm_up()
        finally:
            built.set()

    monkeypatch.setattr(pose_check, "warm_up", warm_up)
    worker = Worker(db, create_storage(settings), {"mannequin": MannequinEngine()}, settings)
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        assert await asyncio.to_thread(built.wait, 30)
    finally:
        stop.set()
        await running
    # Nothing was queued: the worker built the graph on its own, before any check needed it.
    assert detection._solution is not None


@pytest.mark.parametrize("case", ["switched off", "no figure drawn"])
async def test_no_detector_is_built_when_no_check_will_run(
    settings: Settings, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(detection, "_solution", None)
    quality = with_quality(settings, pose_check=case != "switched off").quality
    engine = MannequinEngine() if case == "switched off" else SleepEngine(0)
    threads = SideThreads(1)
    try:
        await pose_check.warm([engine], quality, threads)
    finally:
        threads.close()
    assert detection._solution is None
