"""Categories, library list, search, filters, detail and favorites over HTTP, on both databases."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select, text

from posegen.auth.models import User
from posegen.config import Settings
from posegen.db import Database
from posegen.library.models import Pose, PoseCategory
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_category, create_pose, create_user

P = "/api/apps/pose-generator"


@dataclass
class Library:
    user: User
    headers: dict[str, str]
    root: PoseCategory
    child: PoseCategory
    other_root: PoseCategory
    hidden_root: PoseCategory
    hidden_child: PoseCategory
    poses: dict[str, Pose]


@pytest.fixture
async def library(db: Database, settings: Settings) -> Library:
    user = await create_user(db)
    root = await create_category(db, "fashion")
    child = await create_category(db, "editorial", parent=root)
    other_root = await create_category(db, "sports")
    hidden_root = await create_category(db, "retired", is_active=False)
    hidden_child = await create_category(db, "retired-child", parent=hidden_root)
    poses = {
        "power": await create_pose(
            db, child, "100% Confident Power Stance", tags=("Confident", "power"), usage_count=9
        ),
        "featured": await create_pose(db, child, "Editorial Lean", is_featured=True, usage_count=5),
        "premium": await create_pose(db, root, "Premium Twist", is_premium=True, difficulty="advanced"),
        "under": await create_pose(
            db, other_root, "Squat_Hold", description="Deep squat held low.", tags=("gym",)
        ),
        "plain": await create_pose(
            db, other_root, "Jumping Jack", description="Arms and legs wide.", tags=("cardio",)
        ),
        "private": await create_pose(db, other_root, "Hidden Draft", is_public=False),
        "retired": await create_pose(db, hidden_child, "Retired Pose"),
    }
    return Library(
        user, bearer(token_for(settings, user)), root, child, other_root, hidden_root, hidden_child, poses
    )


async def names(client: httpx.AsyncClient, library: Library, **params: str | int) -> list[str]:
    response = await client.get(f"{P}/library", params=params, headers=library.headers)
    assert response.status_code == 200, response.text
    return [pose["name"] for pose in response.json()["poses"]]


async def test_category_tree_counts_descendants_and_hides_inactive(
    client: httpx.AsyncClient, library: Library
) -> None:
    body = (await client.get(f"{P}/categories", headers=library.headers)).json()
    roots = {node["slug"]: node for node in body["categories"]}
    assert set(roots) == {"fashion", "sports"}
    assert roots["fashion"]["poseCount"] == 3
    assert roots["fashion"]["children"][0]["slug"] == "editorial"
    assert roots["fashion"]["children"][0]["poseCount"] == 2
    assert roots["sports"]["poseCount"] == 2  # the private pose is not public
    assert body["totalCategories"] == 3


async def test_category_filter_includes_descendants(client: httpx.AsyncClient, library: Library) -> None:
    assert sorted(await names(client, library, category="fashion")) == sorted(
        ["100% Confident Power Stance", "Editorial Lean", "Premium Twist"]
    )
    assert sorted(await names(client, library, category=library.child.id)) == sorted(
        ["100% Confident Power Stance", "Editorial Lean"]
    )
    assert await names(client, library, category="retired") == []
    assert await names(client, library, category="no-such-category") == []


async def test_featured_uses_the_featured_flag(client: httpx.AsyncClient, library: Library) -> None:
    assert await names(client, library, featured="true") == ["Editorial Lean"]
    assert await names(client, library, premium="true") == ["Premium Twist"]
    assert await names(client, library, difficulty="advanced") == ["Premium Twist"]


async def test_inactive_categories_and_private_poses_are_hidden(
    client: httpx.AsyncClient, library: Library
) -> None:
    listed = await names(client, library, limit=100)
    assert "Retired Pose" not in listed
    assert "Hidden Draft" not in listed
    assert len(listed) == 5
    for key in ("retired", "private"):
        response = await client.get(f"{P}/library/{library.poses[key].id}", headers=library.headers)
        assert response.status_code == 404


async def test_owner_sees_own_private_pose(
    client: httpx.AsyncClient, db: Database, library: Library, settings: Settings
) -> None:
    owner = await create_user(db)
    mine = await create_pose(db, library.other_root, "My Own Pose", is_public=False, owner=owner)
    headers = bearer(token_for(settings, owner))
    assert (await client.get(f"{P}/library/{mine.id}", headers=headers)).status_code == 200
    assert (await client.get(f"{P}/library/{mine.id}", headers=library.headers)).status_code == 404


async def test_sorting_and_pagination(client: httpx.AsyncClient, library: Library) -> None:
    assert (await names(client, library, sort="popular"))[:2] == [
        "100% Confident Power Stance",
        "Editorial Lean",
    ]
    assert await names(client, library, sort="name") == sorted(await names(client, library, sort="name"))
    response = await client.get(f"{P}/library", params={"limit": 2, "page": 3}, headers=library.headers)
    assert response.json()["pagination"] == {
        "page": 3,
        "limit": 2,
        "total": 5,
        "totalPages": 3,
        "hasMore": False,
    }
    for bad in ({"limit": 101}, {"limit": 0}, {"page": 0}, {"sort": "random"}, {"difficulty": "easy"}):
        response = await client.get(f"{P}/library", params=bad, headers=library.headers)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_search_is_literal_and_safe(client: httpx.AsyncClient, db: Database, library: Library) -> None:
    injection = await client.get(
        f"{P}/library", params={"search": "'; DROP TABLE poses; --"}, headers=library.headers
    )
    assert injection.status_code == 200
    assert injection.json()["poses"] == []
    async with db.session(write=False) as session:
        for table in ("poses", "pose_categories", "pose_tags", "users"):
            count = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
            assert (await session.execute(count)).scalar_one() >= 1
        assert await session.scalar(select(func.count()).select_from(Pose)) == 7

    assert await names(client, library, search="100%") == ["100% Confident Power Stance"]
    assert await names(client, library, search="%%") == []
    assert await names(client, library, search="t_i") == []  # `_` is not a wildcard ("twist" has "t", "i")
    assert await names(client, library, search="g_j") == []  # would match "Jumping Jack" as a wildcard
    assert await names(client, library, search="Squat_Hold") == ["Squat_Hold"]
    assert await names(client, library, search="CONFIDENT") == ["100% Confident Power Stance"]
    assert await names(client, library, search="GYM") == ["Squat_Hold"]
    assert await names(client, library, search="deep squat") == ["Squat_Hold"]
    assert len(await names(client, library, search=" x ")) == 5  # shorter than 2 after trimming: ignored


async def test_long_searches(client: httpx.AsyncClient, library: Library) -> None:
    started = time.perf_counter()
    response = await client.get(f"{P}/library", params={"search": "%" * 100}, headers=library.headers)
    assert response.status_code == 200
    assert response.json()["poses"] == []
    assert time.perf_counter() - started < 2.0
    too_long = await client.get(f"{P}/library", params={"search": "a" * 101}, headers=library.headers)
    assert too_long.status_code == 400
    assert too_long.json()["error"]["field"] == "search"
    padded = await client.get(
        f"{P}/library", params={"search": "  " + "a" * 100 + "  "}, headers=library.headers
    )
    assert padded.status_code == 200


async def test_detail_has_keypoints_and_does_not_count_as_usage(
    client: httpx.AsyncClient, db: Database, library: Library
) -> None:
    pose = library.poses["power"]
    body = (await client.get(f"{P}/library/{pose.id}", headers=library.headers)).json()["pose"]
    assert body["keypoints"]["format"] == "openpose-18"
    assert len(body["keypoints"]["points"]) == 18
    assert body["category"] == {"id": library.child.id, "slug": "editorial", "name": "Editorial"}
    assert body["tags"] == ["confident", "power"]
    async with db.session(write=False) as session:
        stored = await session.get(Pose, pose.id)
        assert stored is not None and stored.usage_count == 9


async def test_favorites(
    client: httpx.AsyncClient, db: Database, library: Library, settings: Settings
) -> None:
    pose = library.poses["plain"]
    url = f"{P}/library/{pose.id}/favorite"
    for _ in range(2):
        response = await client.post(url, headers=library.headers)
        assert response.json() == {"poseId": pose.id, "isFavorite": True, "favoriteCount": 1}
    other = await create_user(db)
    other_headers = bearer(token_for(settings, other))
    assert (await client.post(url, headers=other_headers)).json()["favoriteCount"] == 2
    favorites = (await client.get(f"{P}/favorites", headers=library.headers)).json()
    assert [item["name"] for item in favorites["poses"]] == ["Jumping Jack"]
    assert favorites["poses"][0]["isFavorite"] is True
    listed = (await client.get(f"{P}/library", params={"search": "jumping"}, headers=other_headers)).json()
    assert listed["poses"][0]["isFavorite"] is True
    assert (await client.delete(url, headers=library.headers)).json()["favoriteCount"] == 1
    assert (await client.delete(url, headers=library.headers)).json()["favoriteCount"] == 1
    assert (await client.get(f"{P}/favorites", headers=library.headers)).json()["poses"] == []
    hidden = library.poses["private"]
    assert (
        await client.post(f"{P}/library/{hidden.id}/favorite", headers=library.headers)
    ).status_code == 404


async def test_export_formats_lists_every_preset(client: httpx.AsyncClient) -> None:
    formats = (await client.get(f"{P}/export-formats")).json()["formats"]
    assert len(formats) == 16
    story = next(item for item in formats if item["key"] == "instagram_story")
    assert story == {
        "key": "instagram_story",
        "width": 1080,
        "height": 1920,
        "aspect": "9:16",
        "format": "jpeg",
        "quality": 90,
    }
    assert next(item for item in formats if item["key"] == "original")["width"] is None


async def test_catalogue_needs_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/categories", "/library", "/favorites"):
        assert (await client.get(P + path)).status_code == 401
