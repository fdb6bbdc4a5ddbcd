"""Catalogue endpoints: categories, library, pose detail, favorites, export formats."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from posegen.auth.dependencies import CurrentUser
from posegen.db import Session, UnitOfWorkRoute
from posegen.dependencies import StorageDep
from posegen.imaging.presets import PRESETS
from posegen.kit.pagination import PageRequest, page_params
from posegen.library import service
from posegen.library.repository import PoseFilter, Sort
from posegen.library.schemas import (
    CategoryTree,
    ExportFormatOut,
    ExportFormats,
    FavoriteResult,
    PoseList,
    PoseResult,
)
from posegen.library.taxonomy import Difficulty, Framing, GenderSuitability

router = APIRouter(tags=["library"], route_class=UnitOfWorkRoute)


@router.get("/categories")
async def categories(user: CurrentUser, session: Session) -> CategoryTree:
    """The category tree; counts include descendants; inactive categories are hidden."""
    return await service.category_tree(session)


@router.get("/library")
async def library(
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    page: Annotated[PageRequest, Depends(page_params(24))],
    category: Annotated[
        str | None, Query(max_length=64, description="Slug or id; includes descendants.")
    ] = None,
    search: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="Words, in any order, each (or a synonym) in the name, description or tags; "
            "literal, no wildcards (2–100 characters after trimming, at most 8 words).",
        ),
    ] = None,
    difficulty: Difficulty | None = None,
    gender_suitability: Annotated[GenderSuitability | None, Query(alias="genderSuitability")] = None,
    framing: Framing | None = None,
    featured: bool | None = None,
    premium: bool | None = None,
    mine: Annotated[bool, Query(description="Only the caller's own private poses.")] = False,
    sort: Sort = "popular",
) -> PoseList:
    """Poses the caller may use, filtered, sorted and paginated (default 24 per page); `mine=true`
    lists only the caller's own poses (made with `POST /library/custom`)."""
    filters = PoseFilter(
        search=search,
        difficulty=difficulty.value if difficulty else None,
        gender_suitability=gender_suitability.value if gender_suitability else None,
        framing=framing.value if framing else None,
        featured=featured,
        premium=premium,
        owner_id=user.id if mine else None,
        sort=sort,
    )
    return await service.list_library(session, storage, user.id, filters, category, page)


@router.get("/library/{pose_id}")
async def pose(pose_id: str, user: CurrentUser, session: Session, storage: StorageDep) -> PoseResult:
    """One pose with its keypoints. Viewing does not count as usage."""
    return PoseResult(pose=await service.pose_detail(session, storage, user.id, pose_id))


@router.post("/library/{pose_id}/favorite")
async def add_favorite(pose_id: str, user: CurrentUser, session: Session) -> FavoriteResult:
    """Mark a pose as favorite (repeating is harmless)."""
    return await service.set_favorite(session, user.id, pose_id, True)


@router.delete("/library/{pose_id}/favorite")
async def remove_favorite(pose_id: str, user: CurrentUser, session: Session) -> FavoriteResult:
    """Unmark a favorite (repeating is harmless)."""
    return await service.set_favorite(session, user.id, pose_id, False)


@router.get("/favorites")
async def favorites(
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    page: Annotated[PageRequest, Depends(page_params(24))],
) -> PoseList:
    """The caller's favorite poses, most recently marked first."""
    return await service.list_favorites(session, storage, user.id, page)


@router.get("/export-formats")
async def export_formats() -> ExportFormats:
    """Every export preset: size, aspect, format and quality."""
    return ExportFormats(
        formats=[
            ExportFormatOut(
                key=preset.key,
                width=preset.width,
                height=preset.height,
                aspect=preset.aspect,
                format=preset.format,
                quality=preset.quality,
            )
            for preset in PRESETS.values()
        ]
    )
