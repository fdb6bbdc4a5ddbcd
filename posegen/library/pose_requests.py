"""Pose requests: users ask for poses the library lacks, vote on them, admins moderate them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.audit import service as audit
from posegen.auth.models import User
from posegen.errors import Conflict, Forbidden, NotFound, ValidationFailed
from posegen.kit.orm import upsert
from posegen.kit.pagination import PageRequest, paginate
from posegen.kit.time import utcnow
from posegen.kit.wording import article
from posegen.library import keypoint_import
from posegen.library import repository as library
from posegen.library.models import PoseRequest, PoseRequestVote, RequestStatus
from posegen.library.schemas import PoseRequestCreate, PoseRequestOut, RequestStats
from posegen.projects.uploads import get_owned_upload

# The only moves a request can make; anything else is a 409.
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.PENDING: frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED}),
    RequestStatus.APPROVED: frozenset({RequestStatus.IN_PROGRESS}),
    RequestStatus.IN_PROGRESS: frozenset({RequestStatus.COMPLETED}),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.COMPLETED: frozenset(),
}
VOTABLE = frozenset({RequestStatus.PENDING, RequestStatus.APPROVED})


async def create(session: AsyncSession, user: User, body: PoseRequestCreate) -> PoseRequest:
    if body.category_id is not None and await library.category(session, body.category_id) is None:
        raise ValidationFailed("categoryId: no such category", field="categoryId")
    if body.reference_upload_id is not None:
        # Uploads are private to their owner: another user's upload id names nothing.
        try:
            await get_owned_upload(session, user.id, body.reference_upload_id)
        except NotFound as exc:
            raise ValidationFailed("referenceUploadId: no such upload", field="referenceUploadId") from exc
    keypoints = None
    if body.keypoints is not None:
        points = keypoint_import.plausible(keypoint_import.from_points(body.keypoints.points), "keypoints")
        keypoints = {"format": "openpose-18", "points": [list(point) for point in points]}
    request = PoseRequest(
        user_id=user.id,
        keypoints=keypoints,
        pose_name=body.pose_name,
        description=body.description,
        category_id=body.category_id,
        use_case=body.use_case,
        reference_upload_id=body.reference_upload_id,
    )
    session.add(request)
    await session.flush()
    return request


async def get(session: AsyncSession, request_id: str) -> PoseRequest:
    request = await session.get(PoseRequest, request_id)
    if request is None:
        raise NotFound("Pose request not found")
    return request


async def mine(
    session: AsyncSession, user: User, status: RequestStatus | None, page: PageRequest
) -> tuple[list[PoseRequest], int]:
    query = select(PoseRequest).where(PoseRequest.user_id == user.id)
    if status is not None:
        query = query.where(PoseRequest.status == status.value)
    return await _page(session, query, page)


async def search(
    session: AsyncSession,
    *,
    status: RequestStatus | None,
    category_id: str | None,
    user_id: str | None,
    page: PageRequest,
) -> tuple[list[PoseRequest], int]:
    query = select(PoseRequest)
    if status is not None:
        query = query.where(PoseRequest.status == status.value)
    if category_id is not None:
        query = query.where(PoseRequest.category_id == category_id)
    if user_id is not None:
        query = query.where(PoseRequest.user_id == user_id)
    return await _page(session, query, page)


async def _page(
    session: AsyncSession, query: Select[PoseRequest], page: PageRequest
) -> tuple[list[PoseRequest], int]:
    return await paginate(session, query, page, PoseRequest.created_at.desc(), PoseRequest.id.desc())


async def popular(session: AsyncSession, limit: int) -> list[PoseRequest]:
    """Open requests (pending or approved) with the most votes."""
    rows = await session.scalars(
        select(PoseRequest)
        .where(PoseRequest.status.in_([status.value for status in VOTABLE]))
        .order_by(PoseRequest.votes_count.desc(), PoseRequest.created_at, PoseRequest.id)
        .limit(limit)
    )
    return list(rows)


async def vote(session: AsyncSession, user: User, request_id: str, on: bool) -> PoseRequest:
    """Add or take back the caller's vote: one per user, never on one's own, only while open."""
    request = await get(session, request_id)
    if request.user_id == user.id:
        raise Forbidden("You cannot vote on your own request")
    if RequestStatus(request.status) not in VOTABLE:
        raise Conflict(f"Votes are closed for {article(request.status)} request")
    if on:
        changed = await session.execute(
            upsert(session, PoseRequestVote)
            .values(request_id=request.id, user_id=user.id)
            .on_conflict_do_nothing()
            .returning(PoseRequestVote.user_id)
        )
        delta = 1 if changed.first() is not None else 0
    else:
        removed = await session.execute(
            delete(PoseRequestVote)
            .where(PoseRequestVote.request_id == request.id, PoseRequestVote.user_id == user.id)
            .returning(PoseRequestVote.user_id)
        )
        delta = -1 if removed.first() is not None else 0
    if delta:
        await session.execute(
            update(PoseRequest)
            .where(PoseRequest.id == request.id)
            .values(votes_count=PoseRequest.votes_count + delta)
        )
        await session.refresh(request)
    return request


async def voted_ids(session: AsyncSession, user_id: str, request_ids: Sequence[str]) -> set[str]:
    rows = await session.scalars(
        select(PoseRequestVote.request_id).where(
            PoseRequestVote.user_id == user_id, PoseRequestVote.request_id.in_(request_ids)
        )
    )
    return set(rows)


async def views(
    session: AsyncSession, viewer_id: str, requests: Sequence[PoseRequest], *, moderator: bool = False
) -> list[PoseRequestOut]:
    """Requests as `viewer_id` may see them.

    Other users' requests are shown without who asked (`userId`) and without
    the reference upload (`referenceUploadId`): those ids belong to another
    account. The requester and moderators (`moderator=True`) see both.
    """
    voted = await voted_ids(session, viewer_id, [request.id for request in requests])
    out = []
    for request in requests:
        mine = request.user_id == viewer_id
        columns = _columns(request)
        if not (mine or moderator):
            columns.update(user_id=None, reference_upload_id=None, keypoints=None)
        columns.update(has_voted=request.id in voted, is_mine=mine)
        out.append(PoseRequestOut.model_validate(columns))
    return out


_DERIVED = frozenset({"has_voted", "is_mine"})


def _columns(request: PoseRequest) -> dict[str, object]:
    return {name: getattr(request, name) for name in PoseRequestOut.model_fields if name not in _DERIVED}


async def transition(
    session: AsyncSession,
    admin: User,
    request_id: str,
    target: RequestStatus,
    *,
    notes: str | None = None,
    completed_pose_id: str | None = None,
) -> PoseRequest:
    """Move a request along the moderation path; an illegal move is a 409 and changes nothing."""
    request = await get(session, request_id)
    current = RequestStatus(request.status)
    if target not in TRANSITIONS[current]:
        raise Conflict(f"{article(current.value).capitalize()} request cannot become {target.value}")
    if target is RequestStatus.COMPLETED:
        if completed_pose_id is None or await library.pose(session, completed_pose_id) is None:
            raise ValidationFailed("completedPoseId: no such pose", field="completedPoseId")
        request.completed_pose_id = completed_pose_id
    before = {"status": current.value, "adminNotes": request.admin_notes}
    request.status = target.value
    if notes is not None:
        request.admin_notes = notes
    request.reviewed_by = admin.id
    request.reviewed_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        action=f"pose_request.{target.value}",
        target_type="pose_request",
        target_id=request.id,
        actor_id=admin.id,
        user_id=request.user_id,
        before=before,
        after={"status": request.status, "adminNotes": request.admin_notes},
    )
    return request


async def set_notes(session: AsyncSession, admin: User, request_id: str, notes: str) -> PoseRequest:
    request = await get(session, request_id)
    before = {"adminNotes": request.admin_notes}
    request.admin_notes = notes
    await session.flush()
    await audit.record(
        session,
        action="pose_request.notes",
        target_type="pose_request",
        target_id=request.id,
        actor_id=admin.id,
        user_id=request.user_id,
        before=before,
        after={"adminNotes": notes},
    )
    return request


async def stats(session: AsyncSession) -> RequestStats:
    rows = await session.execute(select(PoseRequest.status, func.count()).group_by(PoseRequest.status))
    counts = {status: int(count) for status, count in rows}
    return RequestStats(
        total=sum(counts.values()),
        pending=counts.get(RequestStatus.PENDING.value, 0),
        approved=counts.get(RequestStatus.APPROVED.value, 0),
        in_progress=counts.get(RequestStatus.IN_PROGRESS.value, 0),
        completed=counts.get(RequestStatus.COMPLETED.value, 0),
        rejected=counts.get(RequestStatus.REJECTED.value, 0),
    )
