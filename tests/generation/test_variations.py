"""Paid variations and quality tiers through the API and a real worker (both databases)."""

from __future__ import annotations

import io

import httpx
import numpy as np
from PIL import Image
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.generation.models import GeneratedPose
from posegen.imaging.variation import Take, take_for
from tests.credits.helpers import balance_of
from tests.generation.helpers import P, running_worker, scene, submit, wait_finished


async def picture(client: httpx.AsyncClient, url: str) -> Image.Image:
    response = await client.get(url)
    assert response.status_code == 200
    with Image.open(io.BytesIO(response.content)) as decoded:
        return decoded.convert("RGB")


def visible_change(a: Image.Image, b: Image.Image) -> float:
    """Share of pixels where some channel moved by more than 8 of 255."""
    difference = np.abs(np.asarray(a, dtype=np.int32) - np.asarray(b, dtype=np.int32)).max(axis=2)
    return float((difference > 8).mean())


async def test_two_variations_are_two_visibly_different_takes_of_the_pose(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings, poses=1)
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 2,
        "quality": "draft",
    }
    accepted = await submit(client, world.headers, body)
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["generationId"]
    async with running_worker(database_url, settings):
        generation = await wait_finished(db, generation_id)
    assert generation.status == "completed"

    async with db.session(write=False) as session:
        rows = list(
            await session.scalars(
                select(GeneratedPose)
                .where(GeneratedPose.generation_id == generation_id)
                .order_by(GeneratedPose.variation_index)
            )
        )
    first, second = rows
    # Variation 1 is the library pose as it is; variation 2 stores its take and the take's keypoints.
    assert first.keypoints["points"] == world.poses[0].keypoints["points"]
    assert Take.from_json(first.keypoints["take"]).canonical
    take = Take.from_json(second.keypoints["take"])
    assert take == take_for(2, second.seed) and not take.canonical
    assert second.keypoints["points"] != first.keypoints["points"]

    detail = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
    poses = {pose["variationKey"]: pose for pose in detail["generation"]["poses"]}
    key = world.poses[0].id
    one, two = [await picture(client, poses[f"{key}-v{n}"]["imageUrl"]) for n in (1, 2)]
    assert one.size == two.size == (512, 512)
    assert visible_change(one, two) > 0.25
    # The stored control maps follow each variation's own take.
    maps = [await picture(client, poses[f"{key}-v{n}"]["controlMapUrl"]) for n in (1, 2)]
    assert visible_change(*maps) > 0.001


async def test_a_pro_original_is_1536_pixels_square(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings, poses=1)
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 1,
        "quality": "pro",
    }
    accepted = await submit(client, world.headers, body)
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["creditCharged"] == settings.pricing.pro
    assert await balance_of(db, world.user.id) == 10_000 - settings.pricing.pro
    async with running_worker(database_url, settings):
        generation = await wait_finished(db, accepted.json()["generationId"])
    assert generation.status == "completed"
    detail = (await client.get(f"{P}/generations/{generation.id}", headers=world.headers)).json()
    [pose] = detail["generation"]["poses"]
    original = await picture(client, pose["imageUrl"])
    assert original.size == (1536, 1536)
    assert (pose["width"], pose["height"]) == (1536, 1536)


async def test_the_engines_list_says_what_each_quality_gives(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, poses=0)
    engines = (await client.get(f"{P}/engines", headers=world.headers)).json()["engines"]
    by_name = {engine["name"]: engine for engine in engines}
    mannequin = by_name["mannequin"]
    assert [(tier["quality"], tier["size"]) for tier in mannequin["tiers"]] == [
        ("draft", 512),
        ("standard", 1024),
        ("pro", 1536),
    ]
    gives = {tier["quality"]: tier["gives"] for tier in mannequin["tiers"]}
    assert gives["pro"].startswith("1536×1536 px; 2.25× the pixels of standard")
    assert gives["draft"].startswith("512×512 px; a quick preview")
    flux = {tier["quality"]: tier["gives"] for tier in by_name["flux"]["tiers"]}
    assert flux["pro"] == "1536×1536 px; FLUX.1-dev, 35 steps, guidance 3.5"
    assert flux["draft"] == "512×512 px; FLUX.1-schnell, 4 steps, guidance 0"
    # An engine this process was not configured for still lists its sizes.
    assert [tier["gives"] for tier in by_name["comfyui"]["tiers"]][-1].startswith("1536×1536 px")
    assert mannequin["sizes"] == {"draft": 512, "standard": 1024, "pro": 1536}
