"""Catalogue rules: which categories and poses a user sees, how they are shown, favorites."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.errors import NotFound, ValidationFailed
from posegen.kit.pagination import PageRequest
from posegen.library import repository, synonyms
from posegen.library.models import Pose, PoseCategory
from posegen.library.repository import PoseFilter
from posegen.library.schemas import (
    CategoryNode,
    CategoryRef,
    CategoryTree,
    FavoriteResult,
    KeypointsOut,
    PoseDetail,
    PoseList,
    PoseOut,
)
from posegen.storage.base import Storage

SEARCH_MIN = 2
SEARCH_MAX = 100


@dataclass(frozen=True)
class CategoryIndex:
    """All categories, with the tree questions answered in memory (the table is small)."""

    by_id: dict[str, PoseCategory]
    children: dict[str | None, list[PoseCategory]]

    @classmethod
    def of(cls, categories: Sequence[PoseCategory]) -> CategoryIndex:
        children: dict[str | None, list[PoseCategory]] = defaultdict(list)
        for category in categories:
            children[category.parent_id].append(category)
        return cls({category.id: category for category in categories}, dict(children))

    def is_visible(self, category: PoseCategory) -> bool:
        """Active, and every ancestor active: hiding a root hides its branch."""
        node: PoseCategory | None = category
        while node is not None:
            if not node.is_active:
                return False
            node = self.by_id.get(node.parent_id) if node.parent_id else None
        return True

    def visible_ids(self) -> frozenset[str]:
        return frozenset(category.id for category in self.by_id.values() if self.is_visible(category))

    def subtree(self, category_id: str) -> frozenset[str]:
        """The category and all its descendants."""
        found, pending = set(), [category_id]
        while pending:
            current = pending.pop()
            found.add(current)
            pending += [child.id for child in self.children.get(current, [])]
        return frozenset(found)


async def category_index(session: AsyncSession) -> CategoryIndex:
    return CategoryIndex.of(await repository.categories(session))


async def category_tree(session: AsyncSession) -> CategoryTree:
    """Visible categories as a tree; each count covers its public poses and its descendants'."""
    index = await category_index(session)
    visible = index.visible_ids()
    counts = await repository.public_counts(session, visible)

    def node(category: PoseCategory) -> CategoryNode:
        children = [node(child) for child in index.children.get(category.id, []) if child.id in visible]
        own = counts.get(category.id, 0)
        return CategoryNode(
            id=category.id,
            slug=category.slug,
            name=category.name,
            description=category.description,
            icon=category.icon,
            color=category.color,
            display_order=category.display_order,
            pose_count=own + sum(child.pose_count for child in children),
            children=children,
        )

    roots = [node(category) for category in index.children.get(None, []) if category.id in visible]
    return CategoryTree(categories=roots, total_categories=len(visible))


def normalise_search(search: str | None) -> str | None:
    """Trimmed search text; too short (or without a word) is ignored, too long or with more than
    `synonyms.MAX_WORDS` words is refused (each word adds to the query's SQL)."""
    if search is None:
        return None
    text = search.strip()
    if len(text) > SEARCH_MAX:
        raise ValidationFailed(f"search: at most {SEARCH_MAX} characters", field="search")
    if len(text) < SEARCH_MIN or not synonyms.words(text):
        return None
    if len(synonyms.words(text)) > synonyms.MAX_WORDS:
        raise ValidationFailed(f"search: at most {synonyms.MAX_WORDS} words", field="search")
    return text


async def resolve_category_filter(
    session: AsyncSession, index: CategoryIndex, category: str | None
) -> frozenset[str] | None:
    if category is None:
        return None
    found = await repository.category(session, category)
    if found is None or not index.is_visible(found):
        # An unknown category filters everything out rather than erroring:
        # links to a retired category show an empty list.
        return frozenset()
    return index.subtree(found.id)


class PoseViews:
    """Turns pose rows into API views: tags, category, favorites and signed URLs in a few queries."""

    def __init__(self, session: AsyncSession, storage: Storage, index: CategoryIndex, viewer_id: str) -> None:
        self.session = session
        self.storage = storage
        self.index = index
        self.viewer_id = viewer_id

    def _url(self, key: str | None) -> str | None:
        return self.storage.url(key) if key else None

    async def many(self, poses: Sequence[Pose]) -> list[PoseOut]:
        ids = [pose.id for pose in poses]
        tags = await repository.tags_of(self.session, ids)
        favorites = await repository.favorite_ids(self.session, self.viewer_id, ids)
        return [self._view(pose, tags[pose.id], pose.id in favorites) for pose in poses]

    async def detail(self, pose: Pose) -> PoseDetail:
        (view,) = await self.many([pose])
        keypoints = KeypointsOut(format="openpose-18", points=pose.keypoints["points"])
        return PoseDetail(**view.model_dump(by_alias=False), keypoints=keypoints)

    def _view(self, pose: Pose, tags: list[str], is_favorite: bool) -> PoseOut:
        category = self.index.by_id[pose.category_id]
        return PoseOut(
            id=pose.id,
            slug=pose.slug,
            name=pose.name,
            description=pose.description,
            category=CategoryRef(id=category.id, slug=category.slug, name=category.name),
            tags=tags,
            difficulty=pose.difficulty,
            gender_suitability=pose.gender_suitability,
            framing=pose.framing,
            is_featured=pose.is_featured,
            is_premium=pose.is_premium,
            usage_count=pose.usage_count,
            favorite_count=pose.favorite_count,
            is_favorite=is_favorite,
            source=pose.source,
            is_mine=pose.owner_id is not None and pose.owner_id == self.viewer_id,
            preview_url=self._url(pose.preview_key),
            thumbnail_url=self._url(pose.thumbnail_key),
            control_map_url=self._url(pose.control_map_key),
        )


async def list_library(
    session: AsyncSession,
    storage: Storage,
    viewer_id: str,
    filters: PoseFilter,
    category: str | None,
    page: PageRequest,
) -> PoseList:
    index = await category_index(session)
    category_ids = await resolve_category_filter(session, index, category)
    visible = repository.visible_to(viewer_id, index.visible_ids())
    effective = replace(filters, category_ids=category_ids, search=normalise_search(filters.search))
    poses, total = await repository.list_poses(session, visible, effective, page)
    views = PoseViews(session, storage, index, viewer_id)
    return PoseList(poses=await views.many(poses), pagination=page.result(total))


async def visible_pose(session: AsyncSession, viewer_id: str, pose_id: str) -> tuple[Pose, CategoryIndex]:
    """The pose if this viewer may see it; `NotFound` otherwise (never revealing that it exists)."""
    index = await category_index(session)
    found = await repository.visible_poses(session, viewer_id, index.visible_ids(), [pose_id])
    if pose_id not in found:
        raise NotFound("Pose not found")
    return found[pose_id], index


async def pose_detail(session: AsyncSession, storage: Storage, viewer_id: str, pose_id: str) -> PoseDetail:
    pose, index = await visible_pose(session, viewer_id, pose_id)
    return await PoseViews(session, storage, index, viewer_id).detail(pose)


async def set_favorite(session: AsyncSession, viewer_id: str, pose_id: str, favorite: bool) -> FavoriteResult:
    """Mark or unmark a favorite; repeating either is harmless."""
    await visible_pose(session, viewer_id, pose_id)
    if favorite:
        count = await repository.add_favorite(session, viewer_id, pose_id)
    else:
        count = await repository.remove_favorite(session, viewer_id, pose_id)
    return FavoriteResult(pose_id=pose_id, is_favorite=favorite, favorite_count=count)


async def list_favorites(
    session: AsyncSession, storage: Storage, viewer_id: str, page: PageRequest
) -> PoseList:
    index = await category_index(session)
    poses, total = await repository.favorites(
        session, viewer_id, repository.visible_to(viewer_id, index.visible_ids()), page
    )
    views = PoseViews(session, storage, index, viewer_id)
    return PoseList(poses=await views.many(poses), pagination=page.result(total))


def search_text(name: str, description: str, tags: Sequence[str]) -> str:
    """What library search matches against: case-folded name, description and tags."""
    return "\n".join([name, description, *tags]).casefold()
