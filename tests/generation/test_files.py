"""A generation's files as people get them: typed, named URLs and the ZIP's pose-named folders."""

from __future__ import annotations

import io
import zipfile
from urllib.parse import urlsplit

import httpx
from PIL import Image

from posegen.config import Settings
from posegen.db import Database
from tests.generation.helpers import P, Scene, running_worker, scene, submit, wait_finished


async def finished_generation(
    client: httpx.AsyncClient, world: Scene, database_url: str, settings: Settings, db: Database
) -> str:
    """Two poses × one variation, asking for a JPEG and a PNG export; completed."""
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
        "batchSize": 1,
        "quality": "draft",
        "outputFormats": ["instagram_feed", "print_4x6"],
    }
    accepted = await submit(client, world.headers, body)
    assert accepted.status_code == 202, accepted.text
    async with running_worker(database_url, settings):
        generation = await wait_finished(db, accepted.json()["generationId"])
    assert generation.status == "completed"
    return generation.id


async def test_file_urls_end_in_their_extension_and_are_served_typed_and_named(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings, poses=2)
    generation_id = await finished_generation(client, world, database_url, settings, db)
    detail = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
    pose = detail["generation"]["poses"][0]
    stem = f"{world.poses[0].slug}-v1"
    expected = [
        (pose["imageUrl"], ".png", "image/png", f"{stem}-original.png", "PNG"),
        (pose["thumbnailUrl"], ".webp", "image/webp", f"{stem}-thumbnail.webp", "WEBP"),
        (pose["controlMapUrl"], ".png", "image/png", f"{stem}-control.png", "PNG"),
        (pose["exports"]["instagram_feed"], ".jpg", "image/jpeg", f"{stem}-instagram_feed.jpg", "JPEG"),
        (pose["exports"]["print_4x6"], ".png", "image/png", f"{stem}-print_4x6.png", "PNG"),
    ]
    for url, extension, content_type, filename, image_format in expected:
        assert urlsplit(url).path.endswith(extension), url
        response = await client.get(url)
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.headers["content-disposition"] == f'inline; filename="{filename}"'
        with Image.open(io.BytesIO(response.content)) as decoded:
            assert decoded.format == image_format

    regenerated = await client.post(
        f"{P}/poses/{pose['id']}/regenerate-export", json={"format": "twitter_post"}, headers=world.headers
    )
    assert regenerated.status_code == 200, regenerated.text
    url = regenerated.json()["exportUrl"]
    assert urlsplit(url).path.endswith(".jpg")
    response = await client.get(url)
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["content-disposition"] == f'inline; filename="{stem}-twitter_post.jpg"'


async def test_the_default_zip_holds_originals_and_the_requested_exports_in_pose_folders(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings, poses=2)
    generation_id = await finished_generation(client, world, database_url, settings, db)
    archive = await client.get(f"{P}/generations/{generation_id}/export-zip", headers=world.headers)
    assert archive.status_code == 200
    assert archive.headers["content-type"] == "application/zip"
    sizes = {"original.png": (512, 512), "instagram_feed.jpg": (1080, 1080), "print_4x6.png": (1800, 1200)}
    folders = [f"{pose.slug}-v1" for pose in world.poses]
    with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
        assert sorted(opened.namelist()) == sorted(f"{folder}/{name}" for folder in folders for name in sizes)
        for name in opened.namelist():
            with Image.open(io.BytesIO(opened.read(name))) as member:
                assert member.size == sizes[name.split("/")[1]]

    # Formats named in the query replace the generation's; the originals stay unless told otherwise.
    chosen = await client.get(
        f"{P}/generations/{generation_id}/export-zip",
        params={"formats": "pinterest_pin", "includeOriginals": "false"},
        headers=world.headers,
    )
    with zipfile.ZipFile(io.BytesIO(chosen.content)) as opened:
        assert sorted(opened.namelist()) == sorted(f"{folder}/pinterest_pin.jpg" for folder in folders)

    nothing = await client.get(
        f"{P}/generations/{generation_id}/export-zip",
        params={"formats": "", "includeOriginals": "false"},
        headers=world.headers,
    )
    assert nothing.status_code == 409
    assert nothing.json()["error"]["message"] == (
        "The ZIP would be empty: ask for the originals or at least one format"
    )


async def test_the_zip_of_a_fully_cancelled_generation_is_a_409_in_words(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, poses=1)
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 2,
        "quality": "draft",
        "outputFormats": ["instagram_feed"],
    }
    accepted = await submit(client, world.headers, body)
    generation_id = accepted.json()["generationId"]
    # No worker runs: every pose is still queued, so cancelling cancels them all.
    canceled = await client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
    assert canceled.json()["generation"]["status"] == "canceled"
    response = await client.get(f"{P}/generations/{generation_id}/export-zip", headers=world.headers)
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "CONFLICT",
        "message": "The ZIP would be empty: no pose of this generation has completed",
        "statusCode": 409,
        "details": None,
        "field": None,
    }
