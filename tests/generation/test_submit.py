"""`POST /generate`: one transaction for charge and work, idempotency, races, validation."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from posegen.config import Settings
from posegen.credits.models import CreditEntry
from posegen.db import Database
from posegen.generation.models import GeneratedPose, Generation, GenerationEvent
from posegen.library.models import Pose
from posegen.work.inputs import render_request
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_category, create_pose, create_project, create_user
from tests.generation.helpers import Scene, scene, submit


async def counts(db: Database) -> tuple[int, int, int]:
    async with db.session(write=False) as session:
        generations = await session.scalar(select(func.count()).select_from(Generation))
        poses = await session.scalar(select(func.count()).select_from(GeneratedPose))
        events = await session.scalar(select(func.count()).select_from(GenerationEvent))
    return int(generations or 0), int(poses or 0), int(events or 0)


def gallery(world: Scene, **extra: object) -> dict[str, object]:
    return {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 2,
        **extra,
    }


async def test_accepted_generation_has_its_rows_charge_and_first_event(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    response = await submit(
        client,
        world.headers,
        gallery(
            world,
            quality="pro",
            useBackgroundChanger=True,
            backgroundMode="solid_color",
            backgroundColor="#223344",
        ),
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued"
    assert body["creditCharged"] == 2 * (40 + 10)
    assert body["queuePosition"] == 0
    assert body["estimatedCompletionTime"].endswith("Z")
    async with db.session(write=False) as session:
        generation = await session.get(Generation, body["generationId"])
        assert generation is not None
        poses = list(
            await session.scalars(select(GeneratedPose).where(GeneratedPose.generation_id == generation.id))
        )
        events = list(
            await session.scalars(
                select(GenerationEvent).where(GenerationEvent.generation_id == generation.id)
            )
        )
        pose = await session.get(Pose, world.poses[0].id)
    assert generation.credit_charged == 100
    assert sorted(p.variation_key for p in poses) == [f"{world.poses[0].id}-v1", f"{world.poses[0].id}-v2"]
    assert {p.cost for p in poses} == {50}
    assert [(e.seq, e.kind) for e in events] == [(1, "generation.queued")]
    assert pose is not None and pose.usage_count == 0  # counted when a pose completes, not on submission
    assert await balance_of(db, world.user.id) == 10_000 - 100 == await ledger_sum(db, world.user.id)


async def test_same_idempotency_key_twenty_times_charges_once(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    headers = {**world.headers, "Idempotency-Key": "order-7"}
    responses = await asyncio.gather(*(submit(client, headers, gallery(world)) for _ in range(20)))
    assert {response.status_code for response in responses} == {202}
    assert len({response.json()["generationId"] for response in responses}) == 1
    assert len({response.text for response in responses}) == 1
    assert await counts(db) == (1, 2, 1)
    assert await balance_of(db, world.user.id) == 10_000 - 60
    other = await submit(client, headers, gallery(world, batchSize=3))
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert await counts(db) == (1, 2, 1)


async def test_ten_concurrent_generations_with_credit_for_one(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, credits=100)
    responses = await asyncio.gather(*(submit(client, world.headers, gallery(world)) for _ in range(10)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [202] + [402] * 9
    assert await counts(db) == (1, 2, 1)  # no orphan generation, pose or event rows
    assert await balance_of(db, world.user.id) == 40 == await ledger_sum(db, world.user.id)
    async with db.session(write=False) as session:
        usage = await session.scalar(
            select(func.count()).select_from(CreditEntry).where(CreditEntry.kind == "usage")
        )
    assert usage == 1


@pytest.mark.parametrize(
    "change",
    [
        {"selectedPoseIds": []},
        {"selectedPoseIds": ["a"] * 2},
        {"batchSize": 11},
        {"quality": "ultra"},
        {"seed": -1},
        {"outputFormats": ["imaginary"]},
        {"outputFormats": ["instagram_feed", "instagram_post"]},
        {"engine": "sleep"},
        {"engine": "nope"},
        {"textPrompt": "standing tall"},
        {"useBackgroundChanger": True},
        {"useBackgroundChanger": True, "backgroundMode": "solid_color", "backgroundColor": "blue"},
        {"useBackgroundChanger": True, "backgroundMode": "upload", "backgroundUploadId": "not-mine"},
        {"useBackgroundChanger": True, "backgroundMode": "ai_generate", "backgroundPrompt": "a nude beach"},
        {"unknownField": 1},
    ],
)
async def test_bad_requests_change_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, change: dict[str, object]
) -> None:
    world = await scene(db, settings)
    body = gallery(world)
    if change.get("selectedPoseIds") == ["a"] * 2:
        body["selectedPoseIds"] = [world.poses[0].id, world.poses[0].id]
    else:
        body.update(change)
    response = await submit(client, world.headers, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert await counts(db) == (0, 0, 0)
    assert await balance_of(db, world.user.id) == 10_000


@pytest.mark.parametrize(
    ("prompt", "accepted"),
    [
        ("a confident standing pose", True),
        ("skills workshop, standing at the board", True),
        ("<script>alert(1)</script> standing", False),
        ("standing " + "a" * 12, False),
        ("a nice portrait of a cat", False),
        ("Spider-Man standing", False),
        ("st", False),
        (" ".join(["standing"] * 101), False),
    ],
)
async def test_text_prompt_rules(
    client: httpx.AsyncClient, db: Database, settings: Settings, prompt: str, accepted: bool
) -> None:
    world = await scene(db, settings)
    body = {
        "projectId": world.project.id,
        "generationType": "TEXT_DESCRIPTION",
        "textPrompt": prompt,
        "variationCount": 2,
    }
    response = await submit(client, world.headers, body)
    assert response.status_code == (202 if accepted else 400), response.text
    if not accepted:
        assert "forbidden" not in response.text.lower() or "Spider" not in response.text


async def test_other_users_project_is_404_and_premium_needs_the_tier(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    intruder = await create_user(db)
    response = await submit(client, bearer(token_for(settings, intruder)), gallery(world))
    assert response.status_code == 404
    async with db.session() as session:
        await session.execute(update(Pose).where(Pose.id == world.poses[0].id).values(is_premium=True))
    premium = await submit(client, world.headers, gallery(world))
    assert premium.status_code == 403
    assert premium.json()["error"]["code"] == "FORBIDDEN"
    assert await counts(db) == (0, 0, 0)
    assert await balance_of(db, world.user.id) == 10_000


AVATAR_IMAGE = Image.new("RGB", (8, 8), (200, 120, 90))


@pytest.mark.parametrize(
    ("avatar", "covering"),
    [({"gender": "female"}, "hijab"), ({"gender": "female", "head_covering": "none"}, "none")],
)
async def test_a_hijab_category_pose_renders_with_a_hijab_unless_the_avatar_says_otherwise(
    client: httpx.AsyncClient, db: Database, settings: Settings, avatar: dict[str, str], covering: str
) -> None:
    world = await scene(db, settings)
    slug = f"casual-{world.user.id[-6:].lower()}-hijab"
    category = await create_category(db, slug)
    hijab_pose = await create_pose(db, category, "Adjusting the Hijab")
    project = await create_project(db, world.user, **avatar)
    body = {**gallery(world, selectedPoseIds=[hijab_pose.id, world.poses[0].id]), "projectId": project.id}
    response = await submit(client, world.headers, body)
    assert response.status_code == 202, response.text
    async with db.session(write=False) as session:
        generation = await session.get(Generation, response.json()["generationId"])
        poses = list(
            await session.scalars(
                select(GeneratedPose).where(GeneratedPose.generation_id == response.json()["generationId"])
            )
        )
    assert generation is not None and len(poses) == 4
    for row in poses:
        request = render_request(row, generation, project, None, AVATAR_IMAGE)
        assert request.avatar_image is AVATAR_IMAGE
        if row.pose_id == hijab_pose.id:
            assert row.keypoints["category"] == slug
            assert request.avatar.get("head_covering", "none") == covering
        else:
            assert request.avatar.get("head_covering", "none") == "none"
        assert request.avatar["gender"] == "female"
