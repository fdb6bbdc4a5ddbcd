"""How a pose ends: completed, retried, failed or cancelled — each with its money, counters and events
in the one transaction that makes the change, and the generation finalised by the change that ends
its last pose."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.service import Payment, pay_back
from posegen.generation import events
from posegen.generation.models import (
    TERMINAL_GENERATION,
    GeneratedPose,
    Generation,
    GenerationStatus,
    PoseStatus,
)
from posegen.kit.time import utcnow

REFERENCE = "generated_pose"


@dataclass(frozen=True)
class Finished:
    """A generation that just reached its final status."""

    generation_id: str
    status: GenerationStatus


@dataclass(frozen=True)
class Applied:
    """The change was made (the guard matched); `finished` when it ended the generation."""

    finished: Finished | None = None


def refund_reference(pose: GeneratedPose) -> str:
    """The ledger reference of this pose's current charge (each retry round is charged anew)."""
    return pose.id if pose.charge_round == 0 else f"{pose.id}#r{pose.charge_round}"


def _lease_guard(pose_id: str, worker_id: str) -> Any:
    # Every write of a claimed row checks it still holds the claim: a worker
    # whose lease expired and was taken over writes nothing.
    return (
        (GeneratedPose.id == pose_id)
        & (GeneratedPose.lease_owner == worker_id)
        & (GeneratedPose.status == PoseStatus.RUNNING.value)
    )


async def mark_started(session: AsyncSession, generation: Generation) -> None:
    """The first claimed pose moves its generation from queued to processing."""
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation.id, Generation.status == GenerationStatus.QUEUED.value)
        .values(status=GenerationStatus.PROCESSING.value, started_at=utcnow())
        .returning(Generation.id)
    )
    if result.first() is not None:
        await events.append(session, generation.id, generation.user_id, "generation.started", {})


async def complete(
    session: AsyncSession, pose: GeneratedPose, worker_id: str, fields: dict[str, Any]
) -> Applied | None:
    """Record a finished render. None when the lease was lost (the caller drops its files)."""
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
    await events.append(
        session,
        pose.generation_id,
        pose.user_id,
        "pose.completed",
        {"poseId": pose.id, "variationKey": pose.variation_key, "thumbnailKey": fields.get("thumbnail_key")},
    )
    return Applied(await _count(session, pose, PoseStatus.COMPLETED))


async def retry_later(
    session: AsyncSession,
    pose: GeneratedPose,
    worker_id: str,
    available_at: datetime,
    code: str,
    message: str,
) -> bool:
    """Put a claimed pose back in the queue after a transient failure; False if the lease was lost."""
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
    return result.first() is not None


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
    else by the expected current status (queued poses cancelled, expired leases dead-lettered)."""
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
        .returning(GeneratedPose.id)
    )
    if result.first() is None:
        return None
    generation = await session.get(Generation, pose.generation_id, populate_existing=True)
    assert generation is not None
    await pay_back(
        session,
        user_id=pose.user_id,
        payment=Payment(credits=pose.cost, quota_day=generation.quota_day),
        poses=1,
        reason=f"refund: pose {status.value} ({code})",
        reference_type=REFERENCE,
        reference_id=refund_reference(pose),
    )
    if pose.cost:
        await session.execute(
            update(Generation)
            .where(Generation.id == pose.generation_id)
            .values(credit_refunded=Generation.credit_refunded + pose.cost)
        )
    if status is PoseStatus.FAILED:
        await events.append(
            session,
            pose.generation_id,
            pose.user_id,
            "pose.failed",
            {"poseId": pose.id, "variationKey": pose.variation_key, "errorCode": code, "refunded": pose.cost},
        )
    return Applied(await _count(session, pose, status))


_COUNTER = {
    PoseStatus.COMPLETED: Generation.poses_completed,
    PoseStatus.FAILED: Generation.poses_failed,
    PoseStatus.CANCELED: Generation.poses_canceled,
}


async def _count(session: AsyncSession, pose: GeneratedPose, status: PoseStatus) -> Finished | None:
    column = _COUNTER[status]
    result = await session.execute(
        update(Generation)
        .where(Generation.id == pose.generation_id)
        .values({column.key: column + 1})
        .returning(
            Generation.poses_completed,
            Generation.poses_failed,
            Generation.poses_canceled,
            Generation.total_expected,
        )
    )
    completed, failed, canceled, total = result.one()
    if completed + failed + canceled < total:
        if status is not PoseStatus.CANCELED:
            await events.append(
                session,
                pose.generation_id,
                pose.user_id,
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
    return await finalize(session, pose.generation_id)


async def finalize(session: AsyncSession, generation_id: str) -> Finished | None:
    """Give a generation whose poses are all terminal its final status and event (once)."""
    generation = await session.get(Generation, generation_id, populate_existing=True)
    assert generation is not None
    if GenerationStatus(generation.status) in TERMINAL_GENERATION:
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
    """Cancel and refund every queued pose of a generation now; running ones stop at their next checkpoint."""
    rows = await session.scalars(
        select(GeneratedPose)
        .where(GeneratedPose.generation_id == generation.id, GeneratedPose.status == PoseStatus.QUEUED.value)
        .order_by(GeneratedPose.variation_index)
    )
    finished: Finished | None = None
    for pose in list(rows):
        outcome = await end(
            session, pose, PoseStatus.CANCELED, "CANCELED", "canceled by the user", expect=PoseStatus.QUEUED
        )
        if outcome is not None and outcome.finished is not None:
            finished = outcome.finished
    return finished
