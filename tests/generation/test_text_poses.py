"""Which library poses a TEXT_DESCRIPTION generation renders: the words of library search, in any
order, and distinct poses across variations while enough match — on both databases."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.generation.models import GeneratedPose
from posegen.library.models import Pose
from tests.fixtures.factories import create_category, create_pose
from tests.generation.helpers import Scene, scene, submit


async def text_world(db: Database, settings: Settings) -> Scene:
    world = await scene(db, settings, poses=0)
    category = await create_category(db, f"text-{world.user.id[-6:].lower()}")
    for name, description, tags in (
        ("Arms Crossed", "Standing tall, looking ahead.", ("confident",)),
        ("Crossed Arms Lean", "Against a wall.", ("casual",)),
        ("Arms Raised", "Both arms up, crossed at the wrists.", ("joy",)),
        ("Crossed Arms Seated", "On a stool.", ("studio",)),
        ("Deep Squat", "Held low.", ("gym",)),
        ("Seated Reading", "On a chair with a book.", ("indoor",)),
    ):
        world.poses.append(await create_pose(db, category, name, description=description, tags=tags))
    return world


async def rendered(
    client: httpx.AsyncClient, db: Database, world: Scene, prompt: str, variations: int, seed: int
) -> list[str]:
    """The names of the library poses the generation's variations render, in variation order."""
    body = {
        "projectId": world.project.id,
        "generationType": "TEXT_DESCRIPTION",
        "textPrompt": prompt,
        "variationCount": variations,
        "quality": "draft",
        "seed": seed,
    }
    response = await submit(client, world.headers, body)
    assert response.status_code == 202, response.text
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(Pose.name)
            .join(GeneratedPose, GeneratedPose.pose_id == Pose.id)
            .where(GeneratedPose.generation_id == response.json()["generationId"])
            .order_by(GeneratedPose.variation_index)
        )
        return list(rows.scalars())


async def test_four_variations_take_four_distinct_poses_when_four_match(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await text_world(db, settings)
    # Every word in the name beats a word only in the description; ties go by name.
    best = ["Arms Crossed", "Crossed Arms Lean", "Crossed Arms Seated"]
    assert await rendered(client, db, world, "crossed arms", 3, seed=1) == best
    assert await rendered(client, db, world, "arms crossed", 3, seed=2) == best  # any order
    assert await rendered(client, db, world, "folded arms", 3, seed=3) == best  # a synonym
    four = await rendered(client, db, world, "standing with crossed arms", 4, seed=4)
    assert len(set(four)) == 4
    # The most words matched first ("Arms Crossed" misses only "with"); a pose that matches "with"
    # alone ("Seated Reading") is too far behind to be picked.
    assert four == ["Arms Crossed", "Crossed Arms Lean", "Crossed Arms Seated", "Arms Raised"]
    # The same prompt picks the same poses in the same order, whatever the seed.
    assert await rendered(client, db, world, "standing with crossed arms", 4, seed=99) == four


async def test_fewer_matches_than_variations_take_turns(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await text_world(db, settings)
    assert await rendered(client, db, world, "crossed arms lean", 6, seed=5) == [
        "Crossed Arms Lean",
        "Arms Crossed",
        "Crossed Arms Seated",
        "Arms Raised",
        "Crossed Arms Lean",
        "Arms Crossed",
    ]
    assert await rendered(client, db, world, "squatting pose", 3, seed=6) == ["Deep Squat"] * 3
