"""`posegen seed`: the curated categories and poses, upserted by slug, with their images.

Re-running changes nothing unless a pose changed: rows are compared field by
field, and images are rendered again only when the keypoints (or the
renderer version) changed or a file is missing. Rendering runs in a process
pool, so seeding uses every core.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import structlog
from sqlalchemy import select

from posegen.db import Database
from posegen.library import assets, repository
from posegen.library.models import Pose, PoseCategory, PoseSource
from posegen.library.poses import POSES, PoseSpec
from posegen.library.service import search_text
from posegen.library.taxonomy import CATEGORIES, CategorySpec
from posegen.storage.base import Storage

log = structlog.get_logger(__name__)


@dataclass
class SeedReport:
    categories_created: int = 0
    categories_updated: int = 0
    poses_created: int = 0
    poses_updated: int = 0
    poses_unchanged: int = 0
    images_rendered: int = 0
    stale_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"categories: {self.categories_created} created, {self.categories_updated} updated; "
            f"poses: {self.poses_created} created, {self.poses_updated} updated, "
            f"{self.poses_unchanged} unchanged; "
            f"images rendered for {self.images_rendered} poses"
        )


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ; whether any did."""
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    return changed


async def _seed_categories(db: Database, specs: Sequence[CategorySpec], report: SeedReport) -> dict[str, str]:
    async with db.session() as session:
        existing = {row.slug: row for row in await session.scalars(select(PoseCategory))}
        for order, spec in enumerate(specs):
            values = {
                "name": spec.name,
                "description": spec.description,
                "icon": spec.icon,
                "color": spec.color,
                "display_order": order,
                "parent_id": existing[spec.parent].id if spec.parent else None,
            }
            row = existing.get(spec.slug)
            if row is None:
                row = PoseCategory(slug=spec.slug, **values)
                session.add(row)
                await session.flush()
                existing[spec.slug] = row
                report.categories_created += 1
            elif _assign(row, values):
                report.categories_updated += 1
        await session.flush()
        return {slug: row.id for slug, row in existing.items()}


def _pose_values(spec: PoseSpec, category_id: str) -> dict[str, Any]:
    return {
        "category_id": category_id,
        "name": spec.name,
        "description": spec.description,
        "difficulty": spec.difficulty.value,
        "gender_suitability": spec.gender.value,
        "framing": spec.framing.value,
        "keypoints": spec.keypoints.as_json() | {"depth": [round(z, 4) for z in spec.keypoints.depth]},
        "source": PoseSource.CURATED.value,
        "is_featured": spec.featured,
        "is_premium": spec.premium,
        "search_text": search_text(spec.name, spec.description, spec.tags),
    }


def _render_job(points: list[tuple[float, float, float]], depth: list[float]) -> assets.RenderedAssets:
    return assets.render(points, depth)


async def _render_all(jobs: dict[str, PoseSpec], workers: int) -> dict[str, assets.RenderedAssets]:
    if not jobs:
        return {}
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {
            slug: loop.run_in_executor(
                pool, _render_job, list(spec.keypoints.points), list(spec.keypoints.depth)
            )
            for slug, spec in jobs.items()
        }
        return {slug: await future for slug, future in futures.items()}


async def seed_library(
    db: Database,
    storage: Storage,
    *,
    poses: Sequence[PoseSpec] = POSES,
    categories: Sequence[CategorySpec] = CATEGORIES,
    workers: int | None = None,
) -> SeedReport:
    """Upsert `categories` and `poses` and make sure every pose has its images."""
    report = SeedReport()
    category_ids = await _seed_categories(db, categories, report)

    async with db.session(write=False) as session:
        existing = {
            row.slug: row
            for row in await session.scalars(select(Pose).where(Pose.slug.in_([p.slug for p in poses])))
        }
    to_render: dict[str, PoseSpec] = {}
    for spec in poses:
        digest = assets.asset_hash(spec.keypoints.points, spec.keypoints.depth)
        row = existing.get(spec.slug)
        keys = assets.keys_for(spec.slug, digest)
        if row is None or row.content_hash != digest or not await assets.all_exist(storage, keys):
            to_render[spec.slug] = spec

    rendered = await _render_all(to_render, workers or os.cpu_count() or 1)
    report.images_rendered = len(rendered)
    for slug, images in rendered.items():
        spec = to_render[slug]
        await assets.store(
            storage,
            assets.keys_for(slug, assets.asset_hash(spec.keypoints.points, spec.keypoints.depth)),
            images,
        )

    async with db.session() as session:
        rows = {
            row.slug: row
            for row in await session.scalars(select(Pose).where(Pose.slug.in_([p.slug for p in poses])))
        }
        for spec in poses:
            digest = assets.asset_hash(spec.keypoints.points, spec.keypoints.depth)
            keys = assets.keys_for(spec.slug, digest)
            values = _pose_values(spec, category_ids[spec.category]) | {
                "content_hash": digest,
                "preview_key": keys.preview,
                "thumbnail_key": keys.thumbnail,
                "control_map_key": keys.control_map,
            }
            row = rows.get(spec.slug)
            if row is None:
                row = Pose(slug=spec.slug, **values)
                session.add(row)
                await session.flush()
                await repository.replace_tags(session, row.id, spec.tags)
                report.poses_created += 1
                continue
            old_keys = [key for key in (row.preview_key, row.thumbnail_key, row.control_map_key) if key]
            changed = _assign(row, values)
            current_tags = (await repository.tags_of(session, [row.id]))[row.id]
            if sorted(current_tags) != sorted(dict.fromkeys(spec.tags)):
                await repository.replace_tags(session, row.id, spec.tags)
                changed = True
            report.stale_files += [key for key in old_keys if key not in keys.all()]
            if changed:
                report.poses_updated += 1
            else:
                report.poses_unchanged += 1
    # Only after the rows point at the new files may the old ones go.
    for key in report.stale_files:
        await storage.delete(key)
    log.info("library_seeded", summary=report.summary())
    return report
