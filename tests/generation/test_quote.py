"""`POST /generate/quote`: the price `/generate` then charges, the same refusals, nothing written."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, update

from posegen.app import create_app
from posegen.auth.models import User
from posegen.config import Settings
from posegen.db import Database
from posegen.kit.time import utcnow
from posegen.library.models import Pose
from posegen.models import metadata
from tests.credits.helpers import balance_of
from tests.fixtures.app import HIGH_LIMITS, bearer, make_settings, open_client, token_for
from tests.fixtures.factories import create_user
from tests.generation.helpers import P, Scene, scene, submit


async def quote(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, object]
) -> httpx.Response:
    return await client.post(f"{P}/generate/quote", json=body, headers=headers)


async def table_state(db: Database) -> dict[str, int]:
    """Rows per table and the library's usage counters: whatever a request could have written."""
    async with db.session(write=False) as session:
        state = {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }
        state["pose usage"] = int(await session.scalar(select(func.sum(Pose.usage_count))) or 0)
    return state


def gallery(world: Scene, **extra: object) -> dict[str, object]:
    return {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
        "batchSize": 3,
        **extra,
    }


def text(world: Scene, **extra: object) -> dict[str, object]:
    return {
        "projectId": world.project.id,
        "generationType": "TEXT_DESCRIPTION",
        "textPrompt": "a confident standing pose",
        "variationCount": 5,
        **extra,
    }


@pytest.mark.parametrize(
    "shape",
    [
        {},
        {"quality": "draft"},
        {
            "quality": "pro",
            "useBackgroundChanger": True,
            "backgroundMode": "solid_color",
            "backgroundColor": "#123456",
        },
        {"text": True},
        {
            "text": True,
            "quality": "draft",
            "useBackgroundChanger": True,
            "backgroundMode": "ai_generate",
            "backgroundPrompt": "a sunny beach",
        },
    ],
)
async def test_the_quote_is_what_generate_then_charges_and_writes_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, shape: dict[str, object]
) -> None:
    world = await scene(db, settings, credits=5_000)
    extra = {key: value for key, value in shape.items() if key != "text"}
    body = text(world, **extra) if shape.get("text") else gallery(world, **extra)
    before = await table_state(db)
    quoted = await quote(client, world.headers, body)
    assert quoted.status_code == 200, quoted.text
    price = quoted.json()
    assert await table_state(db) == before  # no row, counter or ledger entry anywhere
    assert price["balance"] == 5_000 == await balance_of(db, world.user.id)
    assert price["coveredByQuota"] is False
    assert price["posesTotal"] == (5 if shape.get("text") else 6)

    accepted = await submit(client, world.headers, body)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["totalPosesExpected"] == price["posesTotal"]
    assert accepted.json()["creditCharged"] == price["creditCost"] > 0
    assert await balance_of(db, world.user.id) == price["balance"] - price["creditCost"]
    # Asked again, the quote shows the balance the charge left.
    again = (await quote(client, world.headers, body)).json()
    assert again == {**price, "balance": 5_000 - price["creditCost"]}


async def test_a_quote_does_not_need_the_credits_and_generate_still_refuses(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, credits=10)
    quoted = await quote(client, world.headers, gallery(world))
    assert quoted.status_code == 200, quoted.text
    assert quoted.json() == {"posesTotal": 6, "creditCost": 6 * 30, "balance": 10, "coveredByQuota": False}
    refused = await submit(client, world.headers, gallery(world))
    assert refused.status_code == 402
    assert refused.json()["error"]["details"] == {"required": 180, "available": 10}


async def test_under_the_unlimited_tier_the_quote_says_covered_and_nothing_is_charged(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, credits=100)
    async with db.session() as session:
        await session.execute(
            update(User)
            .where(User.id == world.user.id)
            .values(
                unlimited_active=True,
                unlimited_daily_quota=50,
                unlimited_expires_at=utcnow() + timedelta(days=1),
            )
        )
    before = await table_state(db)
    quoted = (await quote(client, world.headers, gallery(world))).json()
    assert quoted == {"posesTotal": 6, "creditCost": 0, "balance": 100, "coveredByQuota": True}
    assert await table_state(db) == before  # no quota used, no audit entry
    accepted = await submit(client, world.headers, gallery(world))
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["creditCharged"] == quoted["creditCost"] == 0
    assert await balance_of(db, world.user.id) == 100


@pytest.mark.parametrize(
    "change",
    [
        {"batchSize": 11},
        {"quality": "ultra"},
        {"engine": "nope"},
        {"selectedPoseIds": ["no-such-pose"]},
        {"outputFormats": ["imaginary"]},
        {"textPrompt": "standing tall"},
        {"useBackgroundChanger": True},
        {"useBackgroundChanger": True, "backgroundMode": "upload", "backgroundUploadId": "not-mine"},
        {"generationType": "TEXT_DESCRIPTION", "selectedPoseIds": None, "textPrompt": "a portrait of a cat"},
        {"projectId": "someone-elses"},
        {"premium": True},
        {"unknownField": 1},
    ],
)
async def test_a_quote_refuses_what_generate_refuses_alike(
    client: httpx.AsyncClient, db: Database, settings: Settings, change: dict[str, object]
) -> None:
    world = await scene(db, settings)
    body = gallery(world)
    change = dict(change)  # the parameter is shared by both backends' runs
    if change.pop("premium", False):
        async with db.session() as session:
            await session.execute(update(Pose).where(Pose.id == world.poses[0].id).values(is_premium=True))
    if change.get("projectId") == "someone-elses":
        other = await scene(db, settings, credits=0, poses=0)
        change["projectId"] = other.project.id
    body.update(change)
    body = {key: value for key, value in body.items() if value is not None}
    before = await table_state(db)
    quoted = await quote(client, world.headers, body)
    refused = await submit(client, world.headers, body)
    assert quoted.status_code == refused.status_code >= 400, (quoted.text, refused.text)
    assert {key: quoted.json()["error"][key] for key in ("code", "field", "details")} == {
        key: refused.json()["error"][key] for key in ("code", "field", "details")
    }
    assert await table_state(db) == before


async def test_quotes_are_reads_they_take_nothing_from_the_writes_limit(
    database_url: str, data_dir: Path, db: Database
) -> None:
    settings = make_settings(database_url, data_dir, limits={**HIGH_LIMITS, "writes_per_minute": 2})
    app = create_app(settings, embed_worker=False)
    async for client in open_client(app):
        world = await scene(db, settings)
        for _ in range(5):
            quoted = await quote(client, world.headers, gallery(world))
            assert quoted.status_code == 200, quoted.text
            assert "X-RateLimit-Remaining" not in quoted.headers
        accepted = await submit(client, world.headers, gallery(world))
        assert accepted.status_code == 202, accepted.text


async def test_a_quote_needs_an_account(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    world = await scene(db, settings)
    assert (await client.post(f"{P}/generate/quote", json=gallery(world))).status_code == 401
    stranger = await create_user(db)
    response = await quote(client, bearer(token_for(settings, stranger)), gallery(world))
    assert response.status_code == 404
