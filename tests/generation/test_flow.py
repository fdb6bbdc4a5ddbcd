"""A generation from request to images, through the HTTP API and an in-process worker."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from tests.credits.helpers import balance_of
from tests.generation.helpers import P, running_worker, scene, submit, wait_finished


async def test_gallery_generation_completes_with_images_and_exports(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings)
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
        "batchSize": 2,
        "quality": "draft",
        "outputFormats": ["instagram_story", "facebook_post"],
    }
    accepted = await submit(client, world.headers, body)
    assert accepted.status_code == 202, accepted.text
    payload = accepted.json()
    assert payload["totalPosesExpected"] == 4
    assert payload["creditCharged"] == 4 * 15
    assert await balance_of(db, world.user.id) == 10_000 - 60

    async with running_worker(database_url, settings):
        generation = await wait_finished(db, payload["generationId"])
    assert generation.status == "completed"

    detail = (await client.get(f"{P}/generations/{generation.id}", headers=world.headers)).json()
    assert detail["progress"]["percentage"] == 100
    poses = detail["generation"]["poses"]
    assert [pose["variationKey"] for pose in poses] == [
        f"{world.poses[0].id}-v1",
        f"{world.poses[0].id}-v2",
        f"{world.poses[1].id}-v1",
        f"{world.poses[1].id}-v2",
    ]
    for pose in poses:
        assert pose["status"] == "completed"
        image = await client.get(pose["imageUrl"])
        with Image.open(io.BytesIO(image.content)) as decoded:
            assert decoded.size == (512, 512)
        thumb = await client.get(pose["thumbnailUrl"])
        with Image.open(io.BytesIO(thumb.content)) as decoded:
            assert decoded.format == "WEBP"
            assert max(decoded.size) == 400 or max(decoded.size) == 512
        for key, size in (("instagram_story", (1080, 1920)), ("facebook_post", (1200, 630))):
            export = await client.get(pose["exports"][key])
            with Image.open(io.BytesIO(export.content)) as decoded:
                assert decoded.size == size
                assert decoded.format == "JPEG"
    assert all(finding.ok for finding in await examine(db))


async def test_lists_results_stats_and_engines(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings)
    body = {
        "projectId": world.project.id,
        "generationType": "TEXT_DESCRIPTION",
        "textPrompt": "a relaxed standing pose",
        "variationCount": 3,
        "quality": "draft",
    }
    accepted = (await submit(client, world.headers, body)).json()
    listed = (
        await client.get(f"{P}/generations", params={"projectId": world.project.id}, headers=world.headers)
    ).json()
    assert [item["id"] for item in listed["generations"]] == [accepted["generationId"]]
    assert listed["generations"][0]["status"] == "queued"
    assert (
        await client.get(f"{P}/generations/{accepted['generationId']}/results", headers=world.headers)
    ).json()["results"] == []
    async with running_worker(database_url, settings):
        await wait_finished(db, accepted["generationId"])
    results = (
        await client.get(f"{P}/generations/{accepted['generationId']}/results", headers=world.headers)
    ).json()
    assert [pose["variationKey"] for pose in results["results"]] == ["text-v1", "text-v2", "text-v3"]
    assert results["generation"]["successCount"] == 3
    stats = (await client.get(f"{P}/stats", headers=world.headers)).json()
    assert stats["totalPosesGenerated"] == 3
    assert stats["totalProjects"] == 1
    assert stats["recentGenerations"] == 1
    assert stats["creditUsage"]["totalSpent"] == 45
    assert sum(pose["usageCount"] for pose in stats["topUsedPoses"]) == 3
    engines = (await client.get(f"{P}/engines", headers=world.headers)).json()["engines"]
    by_name = {engine["name"]: engine for engine in engines}
    assert by_name["mannequin"]["available"] is True
    assert by_name["flux"]["available"] is False  # no token configured
    assert "sleep" not in by_name
    # The engines that take the pose are listed even when this process has none configured.
    comfyui = by_name["comfyui"]
    assert (comfyui["available"], comfyui["supportsControlImage"]) == (False, True)
    assert "POSEGEN_ENGINES_COMFYUI_URLS" in comfyui["description"]
    assert comfyui["sizes"] == {"draft": 512, "standard": 1024, "pro": 1536}
    assert by_name["mannequin"]["servers"] is None and by_name["mannequin"]["model"] is None
    refused = await client.post(
        f"{P}/generate",
        headers=world.headers,
        json={
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "engine": "comfyui",
            "selectedPoseIds": [world.poses[0].id],
        },
    )
    assert refused.status_code == 400 and "comfyui" in refused.json()["error"]["message"]
