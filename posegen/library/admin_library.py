"""Admin library management: poses from keypoints or pose JSON, edits, hiding; categories."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.audit import service as audit
from posegen.auth.models import User
from posegen.errors import Conflict, NotFound, ValidationFailed
from posegen.kit.ids import new_id
from posegen.kit.openpose import Point
from posegen.kit.text import slugify
from posegen.library import assets, keypoint_import, repository
from posegen.library.models import Pose, PoseCategory, PoseSource
from posegen.library.schemas import (
    CategoryCreate,
    CategoryOut,
    CategoryUpdate,
    PoseCreate,
    PoseDetail,
    PoseUpdate,
)
from posegen.library.service import PoseViews, category_index, search_text
from posegen.storage.base import Storage


def _keypoints(body: PoseCreate) -> list[Point]:
    if body.keypoints is not None:
        points = keypoint_import.from_points(body.keypoints)
    else:
        assert body.pose_json is not None
        points = keypoint_import.from_pose_json(body.pose_json)
    return keypoint_import.plausible(points)


async def _category(session: AsyncSession, category_id: str) -> PoseCategory:
    category = await repository.category(session, category_id)
    if category is None:
        raise ValidationFailed("categoryId: no such category", field="categoryId")
    return category


async def unique_slug(session: AsyncSession, name: str) -> str:
    base = slugify(name, max_length=100)
    slug = base
    while await repository.pose_by_slug(session, slug) is not None:
        slug = f"{base}-{new_id()[-6:]}"
    return slug


async def _detail(session: AsyncSession, storage: Storage, admin: User, pose: Pose) -> PoseDetail:
    return await PoseViews(session, storage, await category_index(session), admin.id).detail(pose)


async def flush_or_conflict(session: AsyncSession, what: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"{what} already exists") from exc


async def add_rendered_pose(
    session: AsyncSession, storage: Storage, pose: Pose, keys: assets.AssetKeys, tags: list[str], what: str
) -> None:
    """Add `pose`, whose images are already stored under `keys`, with its tags; a name that is taken
    is a 409 (`what` already exists) and the stored images are deleted again."""
    session.add(pose)
    try:
        await flush_or_conflict(session, what)
    except Conflict:
        await assets.delete_all(storage, keys)
        raise
    await repository.replace_tags(session, pose.id, tags)


async def create_pose(session: AsyncSession, storage: Storage, admin: User, body: PoseCreate) -> PoseDetail:
    """A new public pose; its preview, thumbnail and control map are rendered and stored first."""
    points = _keypoints(body)
    category = await _category(session, body.category_id)
    depth = [0.0] * len(points)  # imported keypoints carry no depth; parts draw in a fixed order
    slug = await unique_slug(session, body.name)
    digest, keys = await assets.render_and_store(storage, slug, points, depth)
    pose = Pose(
        category_id=category.id,
        slug=slug,
        name=body.name,
        description=body.description,
        difficulty=body.difficulty.value,
        gender_suitability=body.gender_suitability.value,
        framing=body.framing.value,
        keypoints={"format": "openpose-18", "points": [list(point) for point in points], "depth": depth},
        source=PoseSource.ADMIN.value,
        is_featured=body.is_featured,
        is_premium=body.is_premium,
        search_text=search_text(body.name, body.description, body.tags),
        content_hash=digest,
        preview_key=keys.preview,
        thumbnail_key=keys.thumbnail,
        control_map_key=keys.control_map,
    )
    await add_rendered_pose(session, storage, pose, keys, body.tags, "A pose with this name in this category")
    await audit.record(
        session,
        action="pose.create",
        target_type="pose",
        target_id=pose.id,
        actor_id=admin.id,
        user_id=None,
        after={"name": pose.name, "categoryId": pose.category_id},
    )
    return await _detail(session, storage, admin, pose)


async def update_pose(
    session: AsyncSession, storage: Storage, admin: User, pose_id: str, body: PoseUpdate
) -> PoseDetail:
    pose = await repository.pose(session, pose_id)
    if pose is None:
        raise NotFound("Pose not found")
    changes: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"tags"}, by_alias=False)
    if "category_id" in changes:
        changes["category_id"] = (await _category(session, changes["category_id"])).id
    before = {key: getattr(pose, key) for key in changes}
    for key, value in changes.items():
        setattr(pose, key, getattr(value, "value", value))
    tags = body.tags if body.tags is not None else (await repository.tags_of(session, [pose.id]))[pose.id]
    if body.tags is not None:
        await repository.replace_tags(session, pose.id, body.tags)
    pose.search_text = search_text(pose.name, pose.description, tags)
    await flush_or_conflict(session, "A pose with this name in this category")
    await audit.record(
        session,
        action="pose.update",
        target_type="pose",
        target_id=pose.id,
        actor_id=admin.id,
        user_id=None,
        before={key: getattr(value, "value", value) for key, value in before.items()},
        after={key: getattr(pose, key) for key in changes}
        | ({"tags": tags} if body.tags is not None else {}),
    )
    return await _detail(session, storage, admin, pose)


def _category_out(category: PoseCategory) -> CategoryOut:
    return CategoryOut.model_validate(category)


async def create_category(session: AsyncSession, admin: User, body: CategoryCreate) -> CategoryOut:
    if body.parent_id is not None and await session.get(PoseCategory, body.parent_id) is None:
        raise ValidationFailed("parentId: no such category", field="parentId")
    category = PoseCategory(**body.model_dump(by_alias=False))
    session.add(category)
    await flush_or_conflict(session, "A category with this slug")
    await audit.record(
        session,
        action="category.create",
        target_type="pose_category",
        target_id=category.id,
        actor_id=admin.id,
        user_id=None,
        after={"slug": category.slug, "parentId": category.parent_id},
    )
    return _category_out(category)


async def update_category(
    session: AsyncSession, admin: User, category_id: str, body: CategoryUpdate
) -> CategoryOut:
    category = await session.get(PoseCategory, category_id)
    if category is None:
        raise NotFound("Category not found")
    changes = body.model_dump(exclude_unset=True, by_alias=False)
    before = {key: getattr(category, key) for key in changes}
    for key, value in changes.items():
        setattr(category, key, value)
    await session.flush()
    await audit.record(
        session,
        action="category.update",
        target_type="pose_category",
        target_id=category.id,
        actor_id=admin.id,
        user_id=None,
        before=before,
        after=changes,
    )
    return _category_out(category)
