"""Queue administration: recovery status and trigger, dead letters, pause and resume (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from posegen.audit import service as audit
from posegen.auth.dependencies import AdminUser, require_admin
from posegen.db import Session, UnitOfWorkRoute, after_commit
from posegen.dependencies import WakeDep
from posegen.errors import Conflict, NotFound
from posegen.generation import repository as generations
from posegen.generation.locks import lock_generation
from posegen.generation.models import GeneratedPose, PoseStatus
from posegen.generation.requeue import requeue as requeue_poses
from posegen.kit.pagination import PageRequest, page_params
from posegen.kit.time import utcnow
from posegen.openapi import errors
from posegen.work import repository
from posegen.work.reconciler import reconcile_in
from posegen.work.schemas import (
    DeadLetteredPose,
    DeadLetterList,
    QueueCounts,
    QueueOverview,
    QueuePaused,
    RecoveryResult,
    RecoveryRun,
    RecoveryStatus,
    RequeuedPose,
    WorkerOut,
)

router = APIRouter(tags=["admin: work"], dependencies=[Depends(require_admin)], route_class=UnitOfWorkRoute)


async def _counts(session: Session) -> QueueCounts:
    now = utcnow()
    counts = await repository.queue_counts(session, now)
    oldest = counts.oldest_queued_at
    return QueueCounts(
        queued_poses=counts.queued,
        running_poses=counts.running,
        stalled_poses=counts.stalled,
        dead_poses=counts.dead,
        oldest_queued_age_seconds=round((now - oldest).total_seconds(), 1) if oldest else 0.0,
    )


@router.get("/recovery/status", response_model=RecoveryStatus)
async def recovery_status(session: Session) -> RecoveryStatus:
    """Queue counts, live workers and the last reconciler run."""
    workers = await repository.live_workers(session)
    state = await repository.queue_state(session)
    last = (
        RecoveryRun(
            at=state.last_recovery_at,
            recovered=state.last_recovered,
            dead_lettered=state.last_dead_lettered,
        )
        if state is not None and state.last_recovery_at is not None
        else None
    )
    return RecoveryStatus(
        **dict(await _counts(session)),
        workers=[
            WorkerOut(id=worker.id, last_heartbeat_at=worker.last_heartbeat_at, busy_slots=worker.busy_slots)
            for worker in workers
        ],
        last_recovery_run=last,
    )


@router.post("/recovery/trigger", response_model=RecoveryResult)
async def recovery_trigger(session: Session) -> RecoveryResult:
    """Run the reconciler now: re-queue expired leases, dead-letter exhausted poses, finalise."""
    run = await reconcile_in(session, utcnow())
    return RecoveryResult(recovered=run.recovered, dead_lettered=run.dead_lettered)


@router.get("/admin/queue", response_model=QueueOverview)
async def queue_state(session: Session) -> QueueOverview:
    """Whether claims are paused, and the queue's counts."""
    return QueueOverview(paused=await repository.is_paused(session), **dict(await _counts(session)))


async def _set_paused(session: Session, admin: AdminUser, paused: bool) -> QueuePaused:
    await repository.set_paused(session, paused)
    await audit.record(
        session,
        action="queue.pause" if paused else "queue.resume",
        target_type="queue",
        target_id="1",
        actor_id=admin.id,
        user_id=None,
        after={"paused": paused},
    )
    return QueuePaused(paused=paused)


@router.post("/admin/queue/pause", response_model=QueuePaused)
async def pause(session: Session, admin: AdminUser) -> QueuePaused:
    """Stop every worker from claiming (work already running finishes)."""
    return await _set_paused(session, admin, True)


@router.post("/admin/queue/resume", response_model=QueuePaused)
async def resume(wake: WakeDep, session: Session, admin: AdminUser) -> QueuePaused:
    """Let workers claim again."""
    after_commit(session, wake)
    return await _set_paused(session, admin, False)


@router.get("/admin/dead-letter", response_model=DeadLetterList)
async def dead_letter(
    session: Session, page: Annotated[PageRequest, Depends(page_params(20))]
) -> DeadLetterList:
    """Poses that ran out of attempts, newest first."""
    rows, total = await repository.dead_letters(session, page)
    return DeadLetterList(
        poses=[
            DeadLetteredPose(
                id=pose.id,
                generation_id=pose.generation_id,
                user_id=pose.user_id,
                variation_key=pose.variation_key,
                attempts=pose.attempts,
                engine=pose.engine,
                error_message=pose.error_message,
                dead_lettered_at=pose.completed_at,
            )
            for pose in rows
        ],
        pagination=page.result(total),
    )


@router.post("/admin/dead-letter/{pose_id}/requeue", response_model=RequeuedPose, responses=errors(409))
async def requeue(pose_id: str, wake: WakeDep, session: Session, admin: AdminUser) -> RequeuedPose:
    """Queue a dead-lettered pose again, free of charge (it was refunded when it died)."""
    found = await session.get(GeneratedPose, pose_id)
    # LOCK ORDER (generation/locks.py): the generation, then the pose read again under it.
    generation = await lock_generation(session, found.generation_id) if found is not None else None
    pose = await session.get(GeneratedPose, pose_id, populate_existing=True)
    if (
        generation is None
        or pose is None
        or pose.error_code != repository.DEAD_LETTERED
        or pose.status != PoseStatus.FAILED.value
    ):
        raise NotFound("Dead-lettered pose not found")
    if generation.cancel_requested:
        raise Conflict("The generation was cancelled")
    # Free of charge: the pose was refunded when it died.
    await requeue_poses(
        session, generation, await generations.requeueable(session, generation.id, pose.id), cost=0
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
    after_commit(session, wake)
    return RequeuedPose(pose_id=pose.id, status="queued")
