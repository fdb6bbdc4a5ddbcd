"""How a pose ends: completed, retried, failed or cancelled — each with its money, counters and events
in the one transaction that makes the change, and the generation finalised by the change that ends
its last pose. Every outcome locks the generation row before its pose (LOCK ORDER, generation/locks.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.ledger import Refund
from posegen.credits.service import Payment, pay_back, pay_back_many
from posegen.db import after_commit
from posegen.generation import events
from posegen.generation.locks import lock_generation
from posegen.generation.models import (
    TERMINAL_GENERATION,
    BackgroundChange,
    GeneratedPose,
    Generation,
    GenerationStatus,
    PoseStatus,
)
from posegen.generation.pricing import POSE_REFERENCE
from posegen.kit.time import utcnow
from posegen.observability.prometheus import PROCESS as METRICS

REFERENCE = POSE_REFERENCE


@dataclass(frozen=True)
class Finished:
    """A generation that just reached its final status."""

    generation_id: str
    status: GenerationStatus


@dataclass(frozen=True)
class Applied:
    """The change was made (the guard matched); `finished` when it ended the generation.
    `canceled`: a completion arrived after its generation was cancelled, so the pose was
    cancelled (and refunded) instead and its files are to be dropped."""

    finished: Finished | None = None
    canceled: bool = False


def refund_reference(pose_id: str, charge_round: int) -> str:
    """The ledger reference of a pose's charge in `charge_round` (each retry round is charged anew).
    It starts with the pose id, so the ledger can be traced back to the pose (`posegen doctor`)."""
    return pose_id if charge_round == 0 else f"{pose_id}#r{charge_round}"


def _lease_guard(pose_id: str, worker_id: str) -> Any:
    # Every write of a claimed row checks it still holds the claim: a worker
    # whose lease expired and was taken over writes nothing.
    return (
        (GeneratedPose.id == pose_id)
        & (GeneratedPose.lease_owner == worker_id)
        & (GeneratedPose.status == PoseStatus.RUNNING.value)
    )


async def mark_started(session: AsyncSession, generation_id: str, user_id: str) -> None:
    """The first claimed pose moves its generation from queued to processing."""
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation_id, Generation.status == GenerationStatus.QUEUED.value)
        .values(status=GenerationStatus.PROCESSING.value, started_at=utcnow())
        .returning(Generation.id)
    )
    if result.first() is not None:
        await events.append(session, generation_id, user_id, "generation.started", {})


async def complete(
    session: AsyncSession, pose: GeneratedPose, worker_id: str, fields: dict[str, Any]
) -> Applied | None:
    """Record a finished render. None when the lease was lost (the caller drops its files); a
    cancelled generation's pose is cancelled instead (`Applied.canceled`)."""
    generation = await lock_generation(session, pose.generation_id)
    if generation is None:
        return None
    if generation.cancel_requested:
        outcome = await end(
            session, pose, PoseStatus.CANCELED, "CANCELED", "canceled by the user", worker_id=worker_id
        )
        return None if outcome is None else Applied(outcome.finished, canceled=True)
    now = utcnow()
    result = await session.execute(
        update(GeneratedPose)
        .where(_lease_guard(pose.id, worker_id))
        .values(
            status=PoseStatus.COMPLETED.value,
            lease_owner=None,
            lease_expires_at=None,
            completed_at=now,
            error_code=None,
            error_message=None,
            **fields,
        )
        .returning(GeneratedPose.id)
    )
    if result.first() is None:
        return None
    after_commit(session, lambda: METRICS.pose_finished(PoseStatus.COMPLETED.value))
    await events.append(
        session,
        pose.generation_id,
        pose.user_id,
        "pose.completed",
        {"poseId": pose.id, "variationKey": pose.variation_key, "thumbnailKey": fields.get("thumbnail_key")},
    )
    return Applied(await _count(session, pose.generation_id, pose.user_id, PoseStatus.COMPLETED))


async def retry_later(
    session: AsyncSession,
    pose: GeneratedPose,
    worker_id: str,
    available_at: datetime,
    code: str,
    message: str,
) -> bool:
    """Put a claimed pose back in the queue after a transient failure; False if the lease was lost.
    Only the pose changes, so only the pose is locked."""
    result = await session.execute(
        update(GeneratedPose)
        .where(_lease_guard(pose.id, worker_id))
        .values(
            status=PoseStatus.QUEUED.value,
            lease_owner=None,
            lease_expires_at=None,
            available_at=available_at,
            error_code=code,
            error_message=message[:500],
        )
        .returning(GeneratedPose.id)
    )
    if result.first() is None:
        return False
    after_commit(session, lambda: METRICS.pose_retries.labels(code).inc())
    return True


@dataclass(frozen=True)
class Released:
    """What a stopping worker handed back (`release`)."""

    poses: int
    changes: int


async def release(session: AsyncSession, worker_id: str, now: datetime) -> Released:
    """Hand back every pose and background change `worker_id` still leases, because it is shutting
    down: queued again and available now, lease cleared, and the attempt not counted (attempts − 1),
    since it was cut short by the worker, not by the work. Conditional on still holding the lease, so
    a pose another worker took over (or that reached an outcome) is left alone. No events: nothing
    ended, the work simply waits in the queue again.

    LOCK ORDER (generation/locks.py): each generation, in id order, before its poses and changes.
    Holding it also settles a cancel requested meanwhile: the released poses of a cancelled
    generation are cancelled and refunded here rather than left for the reconciler.
    """
    pose_held = (GeneratedPose.lease_owner == worker_id) & (GeneratedPose.status == PoseStatus.RUNNING.value)
    change_held = (BackgroundChange.lease_owner == worker_id) & (
        BackgroundChange.status == PoseStatus.RUNNING.value
    )
    generation_ids = set(await session.scalars(select(GeneratedPose.generation_id).where(pose_held)))
    generation_ids |= set(await session.scalars(select(BackgroundChange.generation_id).where(change_held)))
    poses = changes = 0
    for generation_id in sorted(generation_ids):
        generation = await lock_generation(session, generation_id)
        if generation is None:
            continue  # deleted: its poses went with it
        requeued = await session.execute(
            update(GeneratedPose)
            .where(pose_held, GeneratedPose.generation_id == generation_id)
            .values(
                status=PoseStatus.QUEUED.value,
                lease_owner=None,
                lease_expires_at=None,
                available_at=now,
                attempts=GeneratedPose.attempts - 1,
            )
            .returning(GeneratedPose.id)
            .execution_options(synchronize_session=False)
        )
        poses += len(requeued.all())
        handed_back = await session.execute(
            update(BackgroundChange)
            .where(change_held, BackgroundChange.generation_id == generation_id)
            .values(
                status=PoseStatus.QUEUED.value,
                lease_owner=None,
                lease_expires_at=None,
                available_at=now,
                attempts=BackgroundChange.attempts - 1,
            )
            .returning(BackgroundChange.id)
            .execution_options(synchronize_session=False)
        )
        changes += len(handed_back.all())
        if generation.cancel_requested:
            await cancel_queued(session, generation)
    return Released(poses, changes)


async def end(
    session: AsyncSession,
    pose: GeneratedPose,
    status: PoseStatus,
    code: str,
    message: str,
    *,
    worker_id: str | None = None,
    expect: PoseStatus = PoseStatus.RUNNING,
) -> Applied | None:
    """Fail or cancel a pose, refunding its own cost. Guarded by the lease when `worker_id` is given,
    else by the expected current status (expired leases dead-lettered)."""
    generation = await lock_generation(session, pose.generation_id)
    if generation is None:
        return None
    guard = (
        _lease_guard(pose.id, worker_id)
        if worker_id is not None
        else (GeneratedPose.id == pose.id) & (GeneratedPose.status == expect.value)
    )
    result = await session.execute(
        update(GeneratedPose)
        .where(guard, GeneratedPose.refunded.is_(False))
        .values(
            status=status.value,
            lease_owner=None,
            lease_expires_at=None,
            refunded=True,
            completed_at=utcnow(),
            error_code=code,
            error_message=message[:500],
        )
        .returning(GeneratedPose.cost, GeneratedPose.charge_round)
    )
    row = result.first()
    if row is None:
        return None
    cost, charge_round = int(row[0]), int(row[1])
    after_commit(session, lambda: METRICS.pose_finished(status.value))
    await pay_back(
        session,
        user_id=pose.user_id,
        payment=Payment(credits=cost, quota_day=generation.quota_day),
        poses=1,
        reason=f"refund: pose {status.value} ({code})",
        reference_type=REFERENCE,
        reference_id=refund_reference(pose.id, charge_round),
    )
    if cost:
        await session.execute(
            update(Generation)
            .where(Generation.id == pose.generation_id)
            .values(credit_refunded=Generation.credit_refunded + cost)
        )
    await events.append(
        session,
        pose.generation_id,
        pose.user_id,
        "pose.failed",
        {"poseId": pose.id, "variationKey": pose.variation_key, "errorCode": code, "refunded": cost},
    )
    return Applied(await _count(session, pose.generation_id, pose.user_id, status))


_COUNTER = {
    PoseStatus.COMPLETED: Generation.poses_completed,
    PoseStatus.FAILED: Generation.poses_failed,
    PoseStatus.CANCELED: Generation.poses_canceled,
}


async def _count(
    session: AsyncSession, generation_id: str, user_id: str, status: PoseStatus, by: int = 1
) -> Finished | None:
    """Count `by` poses that reached `status`; a progress event, or the final status for the last."""
    column = _COUNTER[status]
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation_id)
        .values({column.key: column + by})
        .returning(
            Generation.poses_completed,
            Generation.poses_failed,
            Generation.poses_canceled,
            Generation.total_expected,
        )
    )
    completed, failed, canceled, total = result.one()
    if completed + failed + canceled < total:
        await events.append(
            session,
            generation_id,
            user_id,
            "generation.progress",
            {
                "completed": completed,
                "failed": failed,
                "total": total,
                "percentage": round(100 * (completed + failed + canceled) / total, 2),
                "estimatedTimeRemaining": None,
            },
        )
        return None
    return await finalize(session, generation_id)


async def finalize(session: AsyncSession, generation_id: str) -> Finished | None:
    """Give a generation whose poses are all terminal its final status and event (once).
    The caller holds the generation's lock."""
    generation = await session.get(Generation, generation_id, populate_existing=True)
    if generation is None or GenerationStatus(generation.status) in TERMINAL_GENERATION:
        return None
    done = generation.poses_completed + generation.poses_failed + generation.poses_canceled
    if done < generation.total_expected:
        return None
    if generation.cancel_requested or generation.poses_canceled:
        status = GenerationStatus.CANCELED
    elif generation.poses_completed == generation.total_expected:
        status = GenerationStatus.COMPLETED
    elif generation.poses_completed:
        status = GenerationStatus.PARTIAL
    else:
        status = GenerationStatus.FAILED
    generation.status = status.value
    generation.completed_at = utcnow()
    await session.flush()
    await events.append(
        session,
        generation.id,
        generation.user_id,
        f"generation.{status.value}",
        {
            "completed": generation.poses_completed,
            "failed": generation.poses_failed,
            "creditRefunded": generation.credit_refunded,
        },
    )
    return Finished(generation.id, status)


async def cancel_queued(session: AsyncSession, generation: Generation) -> Finished | None:
    """Cancel and refund every queued pose of a generation now, set-based; running ones stop at their
    next checkpoint. The caller holds the generation's lock.

    One UPDATE ends the poses (skipping any a worker is claiming this instant — that worker sees
    the cancel at its first checkpoint), one refund per pose is written in a few statements, the
    counters move once, and each cancelled pose gets its `pose.failed` event (`CANCELED`).
    """
    queued = select(GeneratedPose.id).where(
        GeneratedPose.generation_id == generation.id,
        GeneratedPose.status == PoseStatus.QUEUED.value,
        GeneratedPose.refunded.is_(False),
    )
    if session.get_bind().dialect.name == "postgresql":
        queued = queued.with_for_update(skip_locked=True)
    result = await session.execute(
        update(GeneratedPose)
        .where(GeneratedPose.id.in_(queued.scalar_subquery()))
        .values(
            status=PoseStatus.CANCELED.value,
            refunded=True,
            completed_at=utcnow(),
            error_code="CANCELED",
            error_message="canceled by the user",
        )
        .returning(
            GeneratedPose.id,
            GeneratedPose.variation_key,
            GeneratedPose.cost,
            GeneratedPose.charge_round,
            GeneratedPose.variation_index,
        )
        .execution_options(synchronize_session=False)
    )
    canceled = sorted(result.all(), key=lambda row: row.variation_index)
    if not canceled:
        return None
    after_commit(session, lambda: METRICS.pose_finished(PoseStatus.CANCELED.value, len(canceled)))
    await pay_back_many(
        session,
        user_id=generation.user_id,
        quota_day=generation.quota_day,
        refunds=[Refund(REFERENCE, refund_reference(row.id, row.charge_round), row.cost) for row in canceled],
        reason="refund: pose canceled (CANCELED)",
    )
    refunded = sum(row.cost for row in canceled)
    if refunded:
        await session.execute(
            update(Generation)
            .where(Generation.id == generation.id)
            .values(credit_refunded=Generation.credit_refunded + refunded)
        )
    await events.append_many(
        session,
        generation.id,
        generation.user_id,
        [
            (
                "pose.failed",
                {
                    "poseId": row.id,
                    "variationKey": row.variation_key,
                    "errorCode": "CANCELED",
                    "refunded": row.cost,
                },
            )
            for row in canceled
        ],
    )
    return await _count(session, generation.id, generation.user_id, PoseStatus.CANCELED, by=len(canceled))
