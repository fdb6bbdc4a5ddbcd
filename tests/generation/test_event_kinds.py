"""The event registry: every kind documented in docs/events.md, every event checked before it is
written, and every kind the code stores produced — and valid — on a real run of the pipeline."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.engines.base import EngineError, ErrorCode, RenderContext, RenderRequest, RenderResult
from posegen.engines.mannequin import MannequinEngine
from posegen.generation import events
from posegen.generation.event_docs import COMMAND, DOC, render
from posegen.generation.event_kinds import (
    EVENT_KINDS,
    EVENT_MODELS,
    FINAL_KINDS,
    GenerationCompleted,
    GenerationQueued,
    GenerationRequeued,
    GenerationStarted,
    PoseFailed,
    PoseProgress,
    UnknownEventKind,
    parse,
)
from posegen.generation.models import BackgroundChange, Generation, GenerationEvent
from tests.generation.helpers import P, Scene, running_worker, scene, submit, wait_finished

STORED_KINDS = {kind for kind, model in EVENT_KINDS.items() if model.stored}


def test_docs_events_md_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), f"run `{COMMAND}` to refresh docs/events.md"


def test_every_kind_is_registered_once_and_documented() -> None:
    assert len(EVENT_KINDS) == len(EVENT_MODELS)
    text = DOC.read_text(encoding="utf-8")
    for kind, model in EVENT_KINDS.items():
        assert f"## `{kind}`" in text
        for field in model.model_fields.values():
            assert field.description, f"{kind}: describe every field, the docs show it"
    # The kinds that end a stream (SSE closes after one, the WebSocket forgets the generation).
    final = {"generation.completed", "generation.partial", "generation.failed", "generation.canceled"}
    assert final == FINAL_KINDS


def test_typed_events_keep_the_wire_format_of_todays_payloads() -> None:
    assert GenerationQueued(total=3, credit_charged=45).data() == {"total": 3, "creditCharged": 45}
    requeued = GenerationRequeued(round=1, status="queued", retried=1, pose_ids=["p"], credit_charged=15)
    assert requeued.data() == {
        "round": 1,
        "status": "queued",
        "retried": 1,
        "poseIds": ["p"],
        "creditCharged": 15,
    }
    # A final event names its round only after a requeue.
    assert GenerationCompleted(completed=2, failed=0, credit_refunded=0).data() == {
        "completed": 2,
        "failed": 0,
        "creditRefunded": 0,
    }
    assert GenerationCompleted(completed=2, failed=0, credit_refunded=0, round=1).data()["round"] == 1
    failed = PoseFailed(pose_id="p", variation_key="k-v1", error_code=ErrorCode.CANCELED, refunded=15)
    assert failed.data() == {"poseId": "p", "variationKey": "k-v1", "errorCode": "CANCELED", "refunded": 15}
    progress = {"completed": 1, "failed": 0, "total": 4, "percentage": 25.0, "estimatedTimeRemaining": None}
    assert parse("generation.progress", progress).data() == progress


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("generation.started", {"extra": 1}),
        ("generation.queued", {"creditCharged": 1}),
        ("generation.queued", {"total": 1, "retried": 1, "creditCharged": 1}),
        ("pose.failed", {"poseId": "p", "variationKey": "k", "errorCode": "NOT_A_CODE", "refunded": 0}),
        ("pose.completed", {"poseId": "p", "variationKey": "k"}),
        ("generation.completed", {"completed": "1", "failed": 0, "creditRefunded": 0}),
        ("background.failed", {"poseId": "p", "errorCode": "INTERNAL", "refunded": -1}),
    ],
)
def test_payloads_that_do_not_fit_their_kind_are_refused(kind: str, data: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        parse(kind, data)


async def _generation(client: httpx.AsyncClient, world: Scene, batch: int = 1) -> str:
    accepted = await submit(
        client,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": batch,
            "quality": "draft",
        },
    )
    assert accepted.status_code == 202, accepted.text
    return str(accepted.json()["generationId"])


async def test_append_writes_only_registered_valid_stored_events(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, poses=1)
    generation_id = await _generation(client, world)
    async with db.session() as session:
        assert await events.append(session, generation_id, world.user.id, GenerationStarted()) == 2
        live_only = PoseProgress(pose_id="p", step=1, steps=4, percentage=25.0)
        with pytest.raises(ValueError, match="live only"):
            await events.append(session, generation_id, world.user.id, live_only)
        good = GenerationRequeued(round=1, status="queued", retried=1, pose_ids=["p"], credit_charged=0)
        with pytest.raises(ValueError, match="live only"):
            await events.append_many(session, generation_id, world.user.id, [good, live_only])
        # A refused batch reserved no sequence numbers.
        generation = await session.get(Generation, generation_id, populate_existing=True)
        assert generation is not None and generation.last_seq == 2
        await events.append_many(session, generation_id, world.user.id, [good, GenerationStarted()])
    async with db.session(write=False) as session:
        rows = list(
            await session.scalars(
                select(GenerationEvent)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.seq)
            )
        )
    assert [(row.seq, row.kind) for row in rows] == [
        (1, "generation.queued"),
        (2, "generation.started"),
        (3, "generation.requeued"),
        (4, "generation.started"),
    ]
    assert rows[2].data == {
        "round": 1,
        "status": "queued",
        "retried": 1,
        "poseIds": ["p"],
        "creditCharged": 0,
    }
    # Stored rows read back through the registry; it refuses kinds and payloads it does not know.
    assert [parse(row.kind, row.data) for row in rows][2] == good
    with pytest.raises(UnknownEventKind):
        parse("generation.exploded", {})
    with pytest.raises(ValidationError):
        parse("generation.started", {"x": 1})


class Renders:
    """Makes the mannequin engine fail on demand: every render, every other one, or none."""

    def __init__(self) -> None:
        self.mode = "succeed"
        self.calls = itertools.count()
        self.real = MannequinEngine.render

    def method(self) -> Callable[[MannequinEngine, RenderRequest, RenderContext], Awaitable[RenderResult]]:
        """A function to put in place of `MannequinEngine.render` (a plain function, so it binds)."""

        async def render(
            engine: MannequinEngine, request: RenderRequest, context: RenderContext
        ) -> RenderResult:
            number = next(self.calls)
            if self.mode == "fail" or (self.mode == "alternate" and number % 2):
                raise EngineError(ErrorCode.CONTENT_REJECTED, "refused by the test", retryable=False)
            return await self.real(engine, request, context)

        return render


async def _background_change(
    client: httpx.AsyncClient, db: Database, world: Scene, generation_id: str
) -> BackgroundChange:
    """Ask for a background change of the generation's first pose and wait until it has finished."""
    detail = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
    pose_id = detail["generation"]["poses"][0]["id"]
    async with db.session(write=False) as session:
        earlier = set(await session.scalars(select(BackgroundChange.id)))
    response = await client.post(
        f"{P}/poses/{pose_id}/background",
        headers=world.headers,
        json={"backgroundMode": "solid_color", "backgroundColor": "#10A040"},
    )
    assert response.status_code == 202, response.text
    for _ in range(600):
        async with db.session(write=False) as session:
            change = await session.scalar(
                select(BackgroundChange).where(
                    BackgroundChange.pose_id == pose_id,
                    BackgroundChange.id.not_in(earlier),
                    BackgroundChange.status.in_(("completed", "failed")),
                )
            )
        if change is not None:
            return change
        await asyncio.sleep(0.05)
    raise AssertionError("the background change did not finish")


async def test_every_stored_kind_the_pipeline_writes_validates(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await scene(db, settings, poses=1)
    renders = Renders()
    monkeypatch.setattr(MannequinEngine, "render", renders.method())

    async def finish(mode: str, batch: int) -> Generation:
        renders.mode = mode
        generation_id = await _generation(client, world, batch)
        async with running_worker(database_url, settings):
            return await wait_finished(db, generation_id)

    assert (await finish("alternate", 2)).status == "partial"
    failed = await finish("fail", 1)
    assert failed.status == "failed"
    completed = await finish("succeed", 1)
    assert completed.status == "completed"
    async with running_worker(database_url, settings):
        assert (await _background_change(client, db, world, completed.id)).status == "completed"
        renders.mode = "fail"
        assert (await _background_change(client, db, world, completed.id)).status == "failed"
    canceled = await _generation(client, world, 2)
    response = await client.post(f"{P}/generations/{canceled}/cancel", headers=world.headers)
    assert response.status_code == 200, response.text
    response = await client.post(f"{P}/generations/{failed.id}/retry", headers=world.headers)
    assert response.status_code == 202, response.text

    async with db.session(write=False) as session:
        rows = list(await session.scalars(select(GenerationEvent)))
    for row in rows:
        assert parse(row.kind, row.data).data() == row.data, row.kind
    assert {row.kind for row in rows} == STORED_KINDS
    assert {row.data["retried"] for row in rows if row.kind == "generation.requeued"} >= {1}
