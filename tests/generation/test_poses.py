"""Finished poses: background change (charged, refunded on failure), export regeneration, deletion."""

from __future__ import annotations

import asyncio
import io

import httpx
from PIL import Image
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.generation.models import BackgroundChange, GenerationEvent
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user
from tests.generation.helpers import P, running_worker, scene, submit, wait_finished


async def finished_generation(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> tuple[dict[str, str], str, list[dict[str, object]], str]:
    world = await scene(db, settings, poses=1)
    accepted = await submit(
        client,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 1,
            "quality": "draft",
            "outputFormats": ["instagram_feed"],
        },
    )
    generation_id = accepted.json()["generationId"]
    async with running_worker(database_url, settings):
        await wait_finished(db, generation_id)
    detail = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
    return world.headers, generation_id, detail["generation"]["poses"], world.user.id


async def test_background_change_replaces_the_image_and_charges_ten(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    headers, generation_id, poses, user_id = await finished_generation(client, db, settings, database_url)
    pose = poses[0]
    before = await balance_of(db, user_id)
    old_image = (await client.get(str(pose["imageUrl"]))).content
    response = await client.post(
        f"{P}/poses/{pose['id']}/background",
        headers=headers,
        json={"backgroundMode": "solid_color", "backgroundColor": "#10A040"},
    )
    assert response.status_code == 202, response.text
    assert response.json()["creditCharged"] == 10
    assert response.json()["creditBalance"] == before - 10
    busy = await client.post(
        f"{P}/poses/{pose['id']}/background",
        headers=headers,
        json={"backgroundMode": "solid_color", "backgroundColor": "#000000"},
    )
    assert busy.status_code == 409
    async with running_worker(database_url, settings):
        for _ in range(300):
            async with db.session(write=False) as session:
                change = await session.scalar(
                    select(BackgroundChange).where(BackgroundChange.pose_id == pose["id"])
                )
            if change is not None and change.status in ("completed", "failed"):
                break
            await asyncio.sleep(0.05)
    assert change is not None and change.status == "completed"
    after = (await client.get(f"{P}/generations/{generation_id}", headers=headers)).json()["generation"][
        "poses"
    ][0]
    assert after["backgroundChanged"] is True
    new_image = (await client.get(str(after["imageUrl"]))).content
    assert new_image != old_image
    with Image.open(io.BytesIO(new_image)) as decoded:
        assert decoded.convert("RGB").getpixel((2, 2)) == (16, 160, 64)
    async with db.session(write=False) as session:
        kinds = list(
            await session.scalars(
                select(GenerationEvent.kind)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.seq)
            )
        )
    assert kinds[-1] == "background.completed"
    assert await balance_of(db, user_id) == before - 10 == await ledger_sum(db, user_id)
    assert all(finding.ok for finding in await examine(db))


async def test_pose_endpoints_refuse_other_users_and_bad_input(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    headers, generation_id, poses, user_id = await finished_generation(client, db, settings, database_url)
    pose_id = poses[0]["id"]
    stranger = bearer(token_for(settings, await create_user(db)))
    body = {"backgroundMode": "solid_color", "backgroundColor": "#FFFFFF"}
    assert (
        await client.post(f"{P}/poses/{pose_id}/background", json=body, headers=stranger)
    ).status_code == 404
    assert (await client.get(f"{P}/generations/{generation_id}", headers=stranger)).status_code == 404
    assert (await client.post(f"{P}/generations/{generation_id}/cancel", headers=stranger)).status_code == 404
    assert (await client.delete(f"{P}/generations/{generation_id}", headers=stranger)).status_code == 404
    bad = await client.post(
        f"{P}/poses/{pose_id}/background", json={"backgroundMode": "solid_color"}, headers=headers
    )
    assert bad.status_code == 400
    assert (
        await client.post(f"{P}/poses/{pose_id}/regenerate-export", json={"format": "nope"}, headers=headers)
    ).status_code == 400

    regenerated = await client.post(
        f"{P}/poses/{pose_id}/regenerate-export", json={"format": "tiktok"}, headers=headers
    )
    assert regenerated.status_code == 200, regenerated.text
    with Image.open(io.BytesIO((await client.get(regenerated.json()["exportUrl"])).content)) as decoded:
        assert decoded.size == (1080, 1920)

    balance = await balance_of(db, user_id)
    deleted = await client.delete(f"{P}/generations/{generation_id}", headers=headers)
    assert deleted.json() == {"success": True}
    assert (await client.get(f"{P}/generations/{generation_id}", headers=headers)).status_code == 404
    assert (await client.get(str(poses[0]["imageUrl"]))).status_code == 404
    assert await balance_of(db, user_id) == balance
