"""Admin library management: poses from keypoints or pose JSON, edits, hiding, categories."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from posegen.auth.models import Role
from posegen.config import Settings
from posegen.db import Database
from posegen.library.models import PoseCategory
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import STANDING, create_category, create_user

P = "/api/apps/pose-generator"


@pytest.fixture
async def admin_headers(db: Database, settings: Settings) -> dict[str, str]:
    admin = await create_user(db, role=Role.ADMIN)
    return bearer(token_for(settings, admin))


@pytest.fixture
async def category(db: Database) -> PoseCategory:
    return await create_category(db, "everyday-casual")


def body(category: PoseCategory, **extra: object) -> dict[str, object]:
    return {
        "name": "Relaxed Stand",
        "description": "Standing relaxed with both arms down.",
        "categoryId": category.id,
        "tags": ["Standing", "relaxed", "standing"],
        **extra,
    }


async def test_create_from_keypoints_renders_and_serves_images(
    client: httpx.AsyncClient, category: PoseCategory, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        f"{P}/admin/library", json=body(category, keypoints=STANDING), headers=admin_headers
    )
    assert response.status_code == 201, response.text
    pose = response.json()["pose"]
    assert pose["tags"] == ["relaxed", "standing"]
    assert pose["slug"] == "relaxed-stand"
    assert pose["keypoints"]["points"][1] == [0.5, 0.25, 1.0]
    for field, size in (("previewUrl", (1024, 1024)), ("controlMapUrl", (1024, 1024))):
        image = await client.get(pose[field])
        assert image.status_code == 200
        with Image.open(io.BytesIO(image.content)) as decoded:
            assert decoded.size == size
    listed = await client.get(f"{P}/library", params={"search": "relaxed"}, headers=admin_headers)
    assert [item["id"] for item in listed.json()["poses"]] == [pose["id"]]
    again = await client.post(
        f"{P}/admin/library", json=body(category, keypoints=STANDING), headers=admin_headers
    )
    assert again.status_code == 409


async def test_create_from_openpose_json(
    client: httpx.AsyncClient, category: PoseCategory, admin_headers: dict[str, str]
) -> None:
    flat = [value for x, y, c in STANDING for value in (x * 640, y * 640, c)]
    document = {"canvas_width": 640, "canvas_height": 640, "people": [{"pose_keypoints_2d": flat}]}
    response = await client.post(
        f"{P}/admin/library", json=body(category, poseJson=document), headers=admin_headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["pose"]["keypoints"]["points"][4] == pytest.approx([0.39, 0.5, 1.0])


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"keypoints": STANDING, "poseJson": {"people": []}},
        {"keypoints": STANDING[:17]},
        {
            "keypoints": [[0.5, 0.25, 1.0]]
            + [list(point) for point in STANDING[1:4]]
            + [[0.99, 0.99, 1.0]]
            + [list(point) for point in STANDING[5:]]
        },
        {"keypoints": STANDING, "categoryId": "missing"},
        {"keypoints": STANDING, "difficulty": "expert"},
    ],
)
async def test_bad_pose_bodies_are_400(
    client: httpx.AsyncClient, category: PoseCategory, admin_headers: dict[str, str], extra: dict[str, object]
) -> None:
    response = await client.post(f"{P}/admin/library", json=body(category, **extra), headers=admin_headers)
    assert response.status_code == 400, response.text
    listed = await client.get(f"{P}/library", headers=admin_headers)
    assert listed.json()["poses"] == []


async def test_edit_and_hide(
    client: httpx.AsyncClient, db: Database, category: PoseCategory, admin_headers: dict[str, str]
) -> None:
    created = (
        await client.post(
            f"{P}/admin/library", json=body(category, keypoints=STANDING), headers=admin_headers
        )
    ).json()["pose"]
    other = await create_category(db, "street-style")
    edited = await client.put(
        f"{P}/admin/library/{created['id']}",
        json={"name": "Easy Stand", "tags": ["easy"], "categoryId": other.slug, "isFeatured": True},
        headers=admin_headers,
    )
    assert edited.status_code == 200, edited.text
    pose = edited.json()["pose"]
    assert (pose["name"], pose["tags"], pose["category"]["slug"], pose["isFeatured"]) == (
        "Easy Stand",
        ["easy"],
        "street-style",
        True,
    )
    search = await client.get(f"{P}/library", params={"search": "easy"}, headers=admin_headers)
    assert [item["id"] for item in search.json()["poses"]] == [created["id"]]
    # The old name's words are all in the description ("Standing relaxed"): words match in any order.
    found = await client.get(f"{P}/library", params={"search": "relaxed stand"}, headers=admin_headers)
    assert [item["name"] for item in found.json()["poses"]] == ["Easy Stand"]
    assert (
        await client.get(f"{P}/library", params={"search": "relaxed easy sitting"}, headers=admin_headers)
    ).json()["poses"] == []
    hidden = await client.delete(f"{P}/admin/library/{created['id']}", headers=admin_headers)
    assert hidden.status_code == 200
    assert (await client.get(f"{P}/library/{created['id']}", headers=admin_headers)).status_code == 404
    assert (
        await client.put(f"{P}/admin/library/missing", json={"name": "x y"}, headers=admin_headers)
    ).status_code == 404


async def test_categories_create_and_deactivate(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    root = await client.post(
        f"{P}/admin/categories",
        json={"slug": "seasonal", "name": "Seasonal", "color": "#112233"},
        headers=admin_headers,
    )
    assert root.status_code == 201, root.text
    child = await client.post(
        f"{P}/admin/categories",
        json={"slug": "winter", "name": "Winter", "parentId": root.json()["category"]["id"]},
        headers=admin_headers,
    )
    assert child.status_code == 201
    duplicate = await client.post(
        f"{P}/admin/categories", json={"slug": "seasonal", "name": "Again"}, headers=admin_headers
    )
    assert duplicate.status_code == 409
    for bad in ({"slug": "Bad Slug", "name": "x y"}, {"slug": "ok", "name": "x y", "color": "red"}):
        assert (
            await client.post(f"{P}/admin/categories", json=bad, headers=admin_headers)
        ).status_code == 400
    tree = (await client.get(f"{P}/categories", headers=admin_headers)).json()
    assert [node["slug"] for node in tree["categories"]] == ["seasonal"]
    off = await client.put(
        f"{P}/admin/categories/{root.json()['category']['id']}",
        json={"isActive": False},
        headers=admin_headers,
    )
    assert off.json()["category"]["isActive"] is False
    assert (await client.get(f"{P}/categories", headers=admin_headers)).json()["categories"] == []
