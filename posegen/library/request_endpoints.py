"""Pose requests of users: ask for a pose, list one's own, see the popular ones, vote."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, status

from posegen.auth.dependencies import CurrentUser
from posegen.db import Session, UnitOfWorkRoute
from posegen.kit.pagination import PageRequest, page_params
from posegen.library import pose_requests
from posegen.library.models import RequestStatus
from posegen.library.schemas import PopularRequests, PoseRequestCreate, PoseRequestList, PoseRequestResult
from posegen.openapi import errors

router = APIRouter(tags=["pose requests"], route_class=UnitOfWorkRoute)


@router.post("/requests", status_code=status.HTTP_201_CREATED)
async def create_request(body: PoseRequestCreate, user: CurrentUser, session: Session) -> PoseRequestResult:
    """Ask for a pose the library lacks."""
    request = await pose_requests.create(session, user, body)
    (view,) = await pose_requests.views(session, user.id, [request])
    return PoseRequestResult(request=view)


@router.get("/requests")
async def my_requests(
    user: CurrentUser,
    session: Session,
    page: Annotated[PageRequest, Depends(page_params(20))],
    request_status: Annotated[RequestStatus | None, Query(alias="status")] = None,
) -> PoseRequestList:
    """The caller's own requests, newest first."""
    rows, total = await pose_requests.mine(session, user, request_status, page)
    return PoseRequestList(
        requests=await pose_requests.views(session, user.id, rows), pagination=page.result(total)
    )


@router.get("/requests/popular")
async def popular_requests(
    user: CurrentUser, session: Session, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> PopularRequests:
    """Open requests of all users with the most votes."""
    rows = await pose_requests.popular(session, limit)
    return PopularRequests(requests=await pose_requests.views(session, user.id, rows))


@router.post("/requests/{request_id}/vote", responses=errors(403, 409))
async def vote(request_id: str, user: CurrentUser, session: Session) -> PoseRequestResult:
    """Vote for a request (once; not one's own; only while pending or approved)."""
    request = await pose_requests.vote(session, user, request_id, True)
    (view,) = await pose_requests.views(session, user.id, [request])
    return PoseRequestResult(request=view)


@router.delete("/requests/{request_id}/vote", responses=errors(403, 409))
async def unvote(request_id: str, user: CurrentUser, session: Session) -> PoseRequestResult:
    """Take back one's vote."""
    request = await pose_requests.vote(session, user, request_id, False)
    (view,) = await pose_requests.views(session, user.id, [request])
    return PoseRequestResult(request=view)
