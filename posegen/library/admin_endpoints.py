"""Pose-generator administration: request moderation and library management (admin role, router-level)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from posegen.auth.dependencies import AdminUser, require_admin
from posegen.db import Session, UnitOfWorkRoute
from posegen.dependencies import StorageDep
from posegen.kit.pagination import PageRequest, page_params
from posegen.library import admin_library, custom_poses, pose_requests
from posegen.library.models import RequestStatus
from posegen.library.schemas import (
    AdminNotes,
    CategoryCreate,
    CategoryResult,
    CategoryUpdate,
    CompleteRequest,
    PoseCreate,
    PoseRequestList,
    PoseRequestResult,
    PoseResult,
    PoseUpdate,
    PromotePose,
    RequestStats,
    RequiredAdminNotes,
)
from posegen.openapi import errors

router = APIRouter(
    prefix="/admin",
    tags=["admin: library"],
    dependencies=[Depends(require_admin)],
    route_class=UnitOfWorkRoute,
)


async def _result(session: Session, admin: AdminUser, request_id: str) -> PoseRequestResult:
    request = await pose_requests.get(session, request_id)
    (view,) = await pose_requests.views(session, admin.id, [request], moderator=True)
    return PoseRequestResult(request=view)


@router.get("/pose-requests")
async def list_requests(
    admin: AdminUser,
    session: Session,
    page: Annotated[PageRequest, Depends(page_params(20))],
    request_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
    category_id: Annotated[str | None, Query(alias="categoryId", max_length=64)] = None,
    user_id: Annotated[str | None, Query(alias="userId", max_length=64)] = None,
) -> PoseRequestList:
    """All pose requests, newest first, filtered by status, category or requester."""
    rows, total = await pose_requests.search(
        session, status=request_status, category_id=category_id, user_id=user_id, page=page
    )
    return PoseRequestList(
        requests=await pose_requests.views(session, admin.id, rows, moderator=True),
        pagination=page.result(total),
    )


@router.get("/pose-requests/stats")
async def request_stats(session: Session) -> RequestStats:
    """Request counts by status."""
    return await pose_requests.stats(session)


@router.get("/pose-requests/{request_id}")
async def get_request(request_id: str, admin: AdminUser, session: Session) -> PoseRequestResult:
    """One request."""
    return await _result(session, admin, request_id)


@router.post("/pose-requests/{request_id}/approve", responses=errors(409))
async def approve(request_id: str, body: AdminNotes, admin: AdminUser, session: Session) -> PoseRequestResult:
    """pending → approved."""
    await pose_requests.transition(session, admin, request_id, RequestStatus.APPROVED, notes=body.admin_notes)
    return await _result(session, admin, request_id)


@router.post("/pose-requests/{request_id}/reject", responses=errors(409))
async def reject(
    request_id: str, body: RequiredAdminNotes, admin: AdminUser, session: Session
) -> PoseRequestResult:
    """pending → rejected (notes required: the requester deserves a reason)."""
    await pose_requests.transition(session, admin, request_id, RequestStatus.REJECTED, notes=body.admin_notes)
    return await _result(session, admin, request_id)


@router.post("/pose-requests/{request_id}/mark-in-progress", responses=errors(409))
async def mark_in_progress(
    request_id: str, body: AdminNotes, admin: AdminUser, session: Session
) -> PoseRequestResult:
    """approved → in_progress."""
    await pose_requests.transition(
        session, admin, request_id, RequestStatus.IN_PROGRESS, notes=body.admin_notes
    )
    return await _result(session, admin, request_id)


@router.post("/pose-requests/{request_id}/mark-completed", responses=errors(409))
async def mark_completed(
    request_id: str, body: CompleteRequest, admin: AdminUser, session: Session
) -> PoseRequestResult:
    """in_progress → completed, naming the library pose that fulfils it."""
    await pose_requests.transition(
        session,
        admin,
        request_id,
        RequestStatus.COMPLETED,
        notes=body.admin_notes,
        completed_pose_id=body.completed_pose_id,
    )
    return await _result(session, admin, request_id)


@router.put("/pose-requests/{request_id}/notes")
async def set_notes(
    request_id: str, body: RequiredAdminNotes, admin: AdminUser, session: Session
) -> PoseRequestResult:
    """Replace the admin notes (any status)."""
    await pose_requests.set_notes(session, admin, request_id, body.admin_notes)
    return await _result(session, admin, request_id)


@router.post("/library", status_code=status.HTTP_201_CREATED, responses=errors(409))
async def create_pose(
    body: PoseCreate, admin: AdminUser, session: Session, storage: StorageDep
) -> PoseResult:
    """Add a pose from 18 keypoints or OpenPose/DWPose/ComfyUI pose JSON; its images are rendered now."""
    return PoseResult(pose=await admin_library.create_pose(session, storage, admin, body))


@router.put("/library/{pose_id}", responses=errors(409))
async def update_pose(
    pose_id: str, body: PoseUpdate, admin: AdminUser, session: Session, storage: StorageDep
) -> PoseResult:
    """Edit a pose's text, category, flags or visibility."""
    return PoseResult(pose=await admin_library.update_pose(session, storage, admin, pose_id, body))


@router.delete("/library/{pose_id}")
async def hide_pose(pose_id: str, admin: AdminUser, session: Session, storage: StorageDep) -> PoseResult:
    """Hide a pose from the library. Past generations keep their reference to it."""
    return PoseResult(
        pose=await admin_library.update_pose(session, storage, admin, pose_id, PoseUpdate(is_public=False))
    )


@router.post("/library/{pose_id}/promote", responses=errors(409))
async def promote_pose(
    pose_id: str, body: PromotePose, admin: AdminUser, session: Session, storage: StorageDep
) -> PoseResult:
    """Make a user's private pose public (optionally in another category); its author is kept, its
    owner cleared. 409 when it is public already or its name is taken in the category."""
    return PoseResult(pose=await custom_poses.promote(session, storage, admin, pose_id, body))


@router.post("/categories", status_code=status.HTTP_201_CREATED, responses=errors(409))
async def create_category(body: CategoryCreate, admin: AdminUser, session: Session) -> CategoryResult:
    """Add a category (optionally under a parent)."""
    return CategoryResult(category=await admin_library.create_category(session, admin, body))


@router.put("/categories/{category_id}", responses=errors(409))
async def update_category(
    category_id: str, body: CategoryUpdate, admin: AdminUser, session: Session
) -> CategoryResult:
    """Edit a category; `isActive: false` hides it and its branch."""
    return CategoryResult(category=await admin_library.update_category(session, admin, category_id, body))
