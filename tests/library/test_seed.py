"""Seeding: categories and poses upserted by slug, images rendered once, re-runs change nothing."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from posegen.db import Database
from posegen.library.models import Pose, PoseCategory, PoseTag
from posegen.library.poses import POSES
from posegen.library.seed import seed_library
from posegen.library.taxonomy import CATEGORIES
from posegen.storage.local import LocalStorage
from posegen.storage.signing import UrlSigner

SAMPLE = POSES[:: max(1, len(POSES) // 6)][:6]


def storage_in(path: Path) -> LocalStorage:
    return LocalStorage(path / "files", UrlSigner(b"s" * 32, 600))


async def test_seed_twice_changes_nothing_the_second_time(db: Database, tmp_path: Path) -> None:
    storage = storage_in(tmp_path)
    first = await seed_library(db, storage, poses=SAMPLE, workers=2)
    assert first.categories_created == len(CATEGORIES)
    assert first.poses_created == len(SAMPLE)
    assert first.images_rendered == len(SAMPLE)

    async with db.session(write=False) as session:
        rows = {row.slug: row for row in await session.scalars(select(Pose))}
        assert await session.scalar(select(func.count()).select_from(PoseCategory)) == len(CATEGORIES)
        assert await session.scalar(select(func.count()).select_from(PoseTag)) == sum(
            len(set(spec.tags)) for spec in SAMPLE
        )
    files = {path: path.stat().st_mtime_ns for path in (tmp_path / "files").rglob("*") if path.is_file()}
    assert len(files) == 3 * len(SAMPLE)

    for spec in SAMPLE:
        row = rows[spec.slug]
        assert row.search_text.startswith(spec.name.casefold())
        assert len(row.keypoints["points"]) == 18
        assert row.preview_key and row.thumbnail_key and row.control_map_key
        with Image.open(io.BytesIO(await storage.get(row.preview_key))) as preview:
            assert preview.size == (1024, 1024)
        with Image.open(io.BytesIO(await storage.get(row.control_map_key))) as control:
            assert control.size == (1024, 1024)
        with Image.open(io.BytesIO(await storage.get(row.thumbnail_key))) as thumb:
            assert thumb.format == "WEBP"
            assert max(thumb.size) == 400

    second = await seed_library(db, storage, poses=SAMPLE, workers=2)
    assert (second.categories_created, second.categories_updated) == (0, 0)
    assert (second.poses_created, second.poses_updated, second.poses_unchanged) == (0, 0, len(SAMPLE))
    assert second.images_rendered == 0
    async with db.session(write=False) as session:
        again = {row.slug: row for row in await session.scalars(select(Pose))}
    assert {slug: row.updated_at for slug, row in again.items()} == {
        slug: row.updated_at for slug, row in rows.items()
    }
    assert {path: path.stat().st_mtime_ns for path in files} == files


async def test_changed_pose_is_updated_and_old_images_removed(db: Database, tmp_path: Path) -> None:
    storage = storage_in(tmp_path)
    original = SAMPLE[0]
    await seed_library(db, storage, poses=[original], workers=1)
    async with db.session(write=False) as session:
        old = await session.scalar(select(Pose).where(Pose.slug == original.slug))
    assert old is not None and old.preview_key is not None

    moved_points = list(original.keypoints.points)
    x, y, c = moved_points[4]
    moved_points[4] = (min(1.0, x + 0.05), y, c)
    changed = replace(
        original,
        description=original.description + " Now with a wider wrist.",
        keypoints=replace(original.keypoints, points=tuple(moved_points)),
    )
    report = await seed_library(db, storage, poses=[changed], workers=1)
    assert (report.poses_updated, report.images_rendered) == (1, 1)
    async with db.session(write=False) as session:
        new = await session.scalar(select(Pose).where(Pose.slug == original.slug))
    assert new is not None and new.id == old.id
    assert new.preview_key != old.preview_key
    assert not await storage.exists(old.preview_key)
    assert await storage.exists(new.preview_key or "")

    # A missing file is rendered again even when nothing else changed.
    await storage.delete(new.thumbnail_key or "")
    repaired = await seed_library(db, storage, poses=[changed], workers=1)
    assert (repaired.images_rendered, repaired.poses_unchanged) == (1, 1)
    assert await storage.exists(new.thumbnail_key or "")
