"""SQL for categories, poses, tags and favorites."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Column, ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.kit.orm import upsert
from posegen.kit.pagination import PageRequest, escape_like, paginate
from posegen.library import synonyms
from posegen.library.models import Pose, PoseCategory, PoseFavorite, PoseTag

Sort = Literal["popular", "newest", "name"]


@dataclass(frozen=True)
class PoseFilter:
    category_ids: frozenset[str] | None = None
    search: str | None = None
    difficulty: str | None = None
    gender_suitability: str | None = None
    framing: str | None = None
    featured: bool | None = None
    premium: bool | None = None
    # Only this user's private poses (`GET /library?mine=true`).
    owner_id: str | None = None
    sort: Sort = "popular"


async def categories(session: AsyncSession) -> list[PoseCategory]:
    rows = await session.scalars(select(PoseCategory).order_by(PoseCategory.display_order, PoseCategory.name))
    return list(rows)


async def category(session: AsyncSession, id_or_slug: str) -> PoseCategory | None:
    return await session.scalar(
        select(PoseCategory).where(or_(PoseCategory.id == id_or_slug, PoseCategory.slug == id_or_slug))
    )


def visible_to(viewer_id: str | None, category_ids: Collection[str]) -> ColumnElement[bool]:
    """Poses a viewer may see: public ones (or their own) in visible categories, never a deleted one.
    The one rule of who sees which pose: every read and every use of a pose goes through it."""
    owned = Pose.owner_id == viewer_id if viewer_id else Pose.is_public
    return (Pose.is_public | owned) & Pose.category_id.in_(category_ids) & Pose.deleted_at.is_(None)


async def visible_poses(
    session: AsyncSession, viewer_id: str, category_ids: Collection[str], pose_ids: Collection[str]
) -> dict[str, Pose]:
    """Those of `pose_ids` the viewer may see and use (`visible_to`), by id; the others are left out,
    whether they do not exist or belong to someone else."""
    rows = await session.scalars(
        select(Pose).where(Pose.id.in_(pose_ids), visible_to(viewer_id, category_ids))
    )
    return {pose.id: pose for pose in rows}


async def hold_poses(session: AsyncSession, pose_ids: Collection[str]) -> set[str]:
    """Those of `pose_ids` not deleted, each locked `FOR KEY SHARE` (PostgreSQL; in id order) until
    commit: a submission takes them so that an owner's delete of a custom pose either waits and then
    sees the new generation's reference (and only hides the pose), or has already committed and the
    pose is no longer here. Key-share locks do not conflict with each other or with counter updates."""
    rows = await session.scalars(
        select(Pose.id)
        .where(Pose.id.in_(sorted(set(pose_ids))), Pose.deleted_at.is_(None))
        .order_by(Pose.id)
        .with_for_update(read=True, key_share=True)
    )
    return set(rows)


async def public_counts(session: AsyncSession, category_ids: Collection[str]) -> dict[str, int]:
    """Public poses per category (own category only; callers add descendants)."""
    rows = await session.execute(
        select(Pose.category_id, func.count())
        .where(Pose.is_public, Pose.category_id.in_(category_ids))
        .group_by(Pose.category_id)
    )
    return {category_id: int(count) for category_id, count in rows}


def _search_clause(text: str) -> ColumnElement[bool]:
    """Every word of `text` (or one of its synonyms) somewhere in the pose's search text, in any
    order; `%`, `_` and `\\` stay literal (`synonyms` has the rule, the service bounds the words)."""
    return and_(
        *(
            or_(*(Pose.search_text.like(f"%{escape_like(word)}%", escape="\\") for word in term))
            for term in synonyms.terms(text)
        )
    )


async def list_poses(
    session: AsyncSession, visible: ColumnElement[bool], filters: PoseFilter, page: PageRequest
) -> tuple[list[Pose], int]:
    query = select(Pose).where(visible)
    if filters.category_ids is not None:
        query = query.where(Pose.category_id.in_(filters.category_ids))
    if filters.search:
        query = query.where(_search_clause(filters.search))
    if filters.difficulty:
        query = query.where(Pose.difficulty == filters.difficulty)
    if filters.gender_suitability:
        query = query.where(Pose.gender_suitability == filters.gender_suitability)
    if filters.framing:
        query = query.where(Pose.framing == filters.framing)
    if filters.featured is not None:
        query = query.where(Pose.is_featured == filters.featured)
    if filters.premium is not None:
        query = query.where(Pose.is_premium == filters.premium)
    if filters.owner_id is not None:
        query = query.where(Pose.owner_id == filters.owner_id)
    order = {
        "popular": (Pose.popularity_score.desc(), Pose.usage_count.desc(), Pose.name, Pose.id),
        "newest": (Pose.created_at.desc(), Pose.id.desc()),
        "name": (Pose.name, Pose.id),
    }[filters.sort]
    return await paginate(session, query, page, *order)


async def pose(session: AsyncSession, pose_id: str) -> Pose | None:
    """The pose by id, unless it was deleted (`deleted_at`)."""
    return await session.scalar(select(Pose).where(Pose.id == pose_id, Pose.deleted_at.is_(None)))


async def lock_own_pose(session: AsyncSession, owner_id: str, pose_id: str) -> Pose | None:
    """The owner's private, not deleted pose, locked until commit: a generation submitted meanwhile
    waits for the deletion, so a reference cannot appear between the check and the delete."""
    return await session.scalar(
        select(Pose)
        .where(Pose.id == pose_id, Pose.owner_id == owner_id, Pose.deleted_at.is_(None))
        .with_for_update()
    )


def outliving_references() -> list[Column[Any]]:
    """Every column whose foreign key points at a pose and outlives it (not `ON DELETE CASCADE`):
    generated poses of past generations, pose requests it completed. Tags and favorites cascade:
    they are the pose's own. Read from the metadata, so a table added later is counted too."""
    poses = Pose.metadata.tables[Pose.__tablename__]
    return sorted(
        (
            fk.parent
            for table in Pose.metadata.tables.values()
            for fk in table.foreign_keys
            if fk.references(poses) and (fk.ondelete or "").upper() != "CASCADE"
        ),
        key=str,
    )


async def is_referenced(session: AsyncSession, pose_id: str) -> bool:
    """Whether a row that outlives the pose (`outliving_references`) points at it."""
    found = [select(column).where(column == pose_id).exists() for column in outliving_references()]
    return bool(await session.scalar(select(or_(*found))))


async def pose_by_slug(session: AsyncSession, slug: str) -> Pose | None:
    return await session.scalar(select(Pose).where(Pose.slug == slug))


async def tags_of(session: AsyncSession, pose_ids: Sequence[str]) -> dict[str, list[str]]:
    tags: dict[str, list[str]] = {pose_id: [] for pose_id in pose_ids}
    rows = await session.execute(
        select(PoseTag.pose_id, PoseTag.tag).where(PoseTag.pose_id.in_(pose_ids)).order_by(PoseTag.tag)
    )
    for pose_id, tag in rows:
        tags[pose_id].append(tag)
    return tags


async def replace_tags(session: AsyncSession, pose_id: str, tags: Sequence[str]) -> None:
    await session.execute(delete(PoseTag).where(PoseTag.pose_id == pose_id))
    session.add_all(PoseTag(pose_id=pose_id, tag=tag) for tag in dict.fromkeys(tags))
    await session.flush()


async def favorite_ids(session: AsyncSession, user_id: str, pose_ids: Sequence[str]) -> set[str]:
    rows = await session.scalars(
        select(PoseFavorite.pose_id).where(
            PoseFavorite.user_id == user_id, PoseFavorite.pose_id.in_(pose_ids)
        )
    )
    return set(rows)


async def add_favorite(session: AsyncSession, user_id: str, pose_id: str) -> int:
    """Mark a favorite (once); the pose's favorite count afterwards."""
    inserted = await session.execute(
        upsert(session, PoseFavorite)
        .values(user_id=user_id, pose_id=pose_id)
        .on_conflict_do_nothing()
        .returning(PoseFavorite.pose_id)
    )
    delta = 1 if inserted.first() is not None else 0
    return await _bump_favorites(session, pose_id, delta)


async def remove_favorite(session: AsyncSession, user_id: str, pose_id: str) -> int:
    removed = await session.execute(
        delete(PoseFavorite)
        .where(PoseFavorite.user_id == user_id, PoseFavorite.pose_id == pose_id)
        .returning(PoseFavorite.pose_id)
    )
    delta = -1 if removed.first() is not None else 0
    return await _bump_favorites(session, pose_id, delta)


async def _bump_favorites(session: AsyncSession, pose_id: str, delta: int) -> int:
    result = await session.execute(
        update(Pose)
        .where(Pose.id == pose_id)
        .values(favorite_count=Pose.favorite_count + delta)
        .returning(Pose.favorite_count)
    )
    return int(result.scalar_one())


async def favorites(
    session: AsyncSession, user_id: str, visible: ColumnElement[bool], page: PageRequest
) -> tuple[list[Pose], int]:
    query = (
        select(Pose)
        .join(PoseFavorite, PoseFavorite.pose_id == Pose.id)
        .where(PoseFavorite.user_id == user_id, visible)
    )
    return await paginate(session, query, page, PoseFavorite.created_at.desc(), Pose.id)
