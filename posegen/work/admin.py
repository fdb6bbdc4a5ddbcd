"""Queue administration: recovery status and trigger, dead letters, pause and resume (admin only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select, update

from posegen.audit import service as audit
from posegen.auth.dependencies import AdminUser, require_admin
from posegen.db import Session, UnitOfWorkRoute, after_commit
from posegen.errors import Conflict, NotFound
from posegen.generation.locks import lock_generation
from posegen.generation.models import GeneratedPose, Generation, GenerationStatus, PoseStatus
from posegen.kit.pagination import PageRequest, page_params, paginate
from posegen.kit.time import isoformat_z, utcnow
from posegen.openapi import errors
from posegen.work import queue
from posegen.work.models import QueueState, Worker
from posegen.work.reconciler import reconcile_in
from posegen.work.schemas import (
    DeadLetterList,
    QueueOverview,
    QueuePaused,
    RecoveryResult,
    RecoveryStatus,
    RequeuedPose,
)

router = APIRouter(tags=["admin: work"], dependencies=[Depends(require_admin)], route_class=UnitOfWorkRoute)

DEAD_LETTERED = "DEAD_LETTERED"


async def _counts(session: Session) -> dict[str, Any]:
    now = utcnow()
    rows = await session.execute(select(GeneratedPose.status, func.count()).group_by(GeneratedPose.status))
    by_status = {status: int(count) for status, count in rows}
    stalled = await session.scalar(
        select(func.count())
        .select_from(GeneratedPose)
        .where(GeneratedPose.status == PoseStatus.RUNNING.value, GeneratedPose.lease_expires_at < now)
    )
    dead = await session.scalar(
        select(func.count()).select_from(GeneratedPose).where(GeneratedPose.error_code == DEAD_LETTERED)
    )
    oldest = await session.scalar(
        select(func.min(GeneratedPose.created_at)).where(GeneratedPose.status == PoseStatus.QUEUED.value)
    )
    return {
        "queuedPoses": by_status.get(PoseStatus.QUEUED.value, 0),
        "runningPoses": by_status.get(PoseStatus.RUNNING.value, 0),
        "stalledPoses": int(stalled or 0),
        "deadPoses": int(dead or 0),
        "oldestQueuedAgeSeconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
    }


@router.get("/recovery/status", response_model=RecoveryStatus)
async def recovery_status(session: Session) -> dict[str, Any]:
    """Queue counts, live workers and the last reconciler run."""
    workers = await session.scalars(select(Worker).order_by(Worker.last_heartbeat_at.desc()).limit(100))
    state = await session.get(QueueState, queue.QUEUE_STATE_ID)
    last = (
        {
            "at": isoformat_z(state.last_recovery_at),
            "recovered": state.last_recovered,
            "deadLettered": state.last_dead_lettered,
        }
        if state is not None and state.last_recovery_at is not None
        else None
    )
    return {
        **await _counts(session),
        "workers": [
            {
                "id": worker.id,
                "lastHeartbeatAt": isoformat_z(worker.last_heartbeat_at),
                "busySlots": worker.busy_slots,
            }
            for worker in workers
        ],
        "lastRecoveryRun": last,
    }


@router.post("/recovery/trigger", response_model=RecoveryResult)
async def recovery_trigger(session: Session) -> dict[str, int]:
    """Run the reconciler now: re-queue expired leases, dead-letter exhausted poses, finalise."""
    run = await reconcile_in(session, utcnow())
    return {"recovered": run.recovered, "deadLettered": run.dead_lettered}


@router.get("/admin/queue", response_model=QueueOverview)
async def queue_state(session: Session) -> dict[str, Any]:
    """Whether claims are paused, and the queue's counts."""
    return {"paused": await queue.is_paused(session), **await _counts(session)}


async def _set_paused(session: Session, admin: AdminUser, paused: bool) -> dict[str, Any]:
    await queue.set_paused(session, paused)
    await audit.record(
        session,
        action="queue.pause" if paused else "queue.resume",
        target_type="queue",
        target_id="1",
        actor_id=admin.id,
        user_id=None,
        after={"paused": paused},
    )
    return {"paused": paused}


@router.post("/admin/queue/pause", response_model=QueuePaused)
async def pause(session: Session, admin: AdminUser) -> dict[str, Any]:
    """Stop every worker from claiming (work already running finishes)."""
    return await _set_paused(session, admin, True)


@router.post("/admin/queue/resume", response_model=QueuePaused)
async def resume(request: Request, session: Session, admin: AdminUser) -> dict[str, Any]:
    """Let workers claim again."""
    after_commit(session, request.app.state.wake)
    return await _set_paused(session, admin, False)


@router.get("/admin/dead-letter", response_model=DeadLetterList)
async def dead_letter(
    session: Session, page: Annotated[PageRequest, Depends(page_params(20))]
) -> dict[str, Any]:
    """Poses that ran out of attempts, newest first."""
    query = select(GeneratedPose).where(GeneratedPose.error_code == DEAD_LETTERED)
    rows, total = await paginate(session, query, page, GeneratedPose.completed_at.desc(), GeneratedPose.id)
    return {
        "poses": [
            {
                "id": pose.id,
                "generationId": pose.generation_id,
                "userId": pose.user_id,
                "variationKey": pose.variation_key,
                "attempts": pose.attempts,
                "engine": pose.engine,
                "errorMessage": pose.error_message,
                "deadLetteredAt": isoformat_z(pose.completed_at) if pose.completed_at else None,
            }
            for pose in rows
        ],
        "pagination": page.result(total).model_dump(by_alias=True),
    }


@router.post("/admin/dead-letter/{pose_id}/requeue", response_model=RequeuedPose, responses=errors(409))
async def requeue(pose_id: str, request: Request, session: Session, admin: AdminUser) -> dict[str, Any]:
    """Queue a dead-lettered pose again, free of charge (it was refunded when it died)."""
    found = await session.get(GeneratedPose, pose_id)
    # LOCK ORDER (generation/locks.py): the generation, then the pose read again under it.
    generation = await lock_generation(session, found.generation_id) if found is not None else None
    pose = await session.get(GeneratedPose, pose_id, populate_existing=True)
    if (
        generation is None
        or pose is None
        or pose.error_code != DEAD_LETTERED
        or pose.status != PoseStatus.FAILED.value
    ):
        raise NotFound("Dead-lettered pose not found")
    if generation.cancel_requested:
        raise Conflict("The generation was cancelled")
    await session.execute(
        update(GeneratedPose)
        .where(GeneratedPose.id == pose.id)
        .values(
            status=PoseStatus.QUEUED.value,
            attempts=0,
            cost=0,
            refunded=False,
            charge_round=pose.charge_round + 1,
            error_code=None,
            error_message=None,
            available_at=utcnow(),
            completed_at=None,
        )
    )
    await session.execute(
        update(Generation)
        .where(Generation.id == generation.id)
        .values(
            poses_failed=Generation.poses_failed - 1,
            status=GenerationStatus.PROCESSING.value,
            completed_at=None,
        )
    )
    await audit.record(
        session,
        action="pose.requeue",
        target_type="generated_pose",
        target_id=pose.id,
        actor_id=admin.id,
        user_id=pose.user_id,
        after={"generationId": generation.id},
    )
    after_commit(session, request.app.state.wake)
    return {"poseId": pose.id, "status": "queued"}
