"""How a pose ends: completed, failed or cancelled — each with its money, counters and events
in the one transaction that makes the change, and the generation finalised by the change that ends
its last pose. Every outcome locks the generation row before its pose (LOCK ORDER, generation/locks.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.ledger import Refund
from posegen.credits.service import Payment, pay_back, pay_back_many
from posegen.db import after_commit
from posegen.engines.base import ErrorCode
from posegen.generation import events
from posegen.generation.counting import count_completion, progress_event
from posegen.generation.event_kinds import (
    DetectedKeypoints,
    EventData,
    GenerationCanceled,
    GenerationCompleted,
    GenerationFailed,
    GenerationFinished,
    GenerationPartial,
    GenerationStarted,
    PoseCompleted,
    PoseFailed,
)
from posegen.generation.locks import lock_generation
from posegen.generation.models import (
    TERMINAL_GENERATION,
    GeneratedPose,
    Generation,
    GenerationStatus,
    PoseStatus,
)
from posegen.generation.pricing import POSE_REFERENCE
from posegen.generation.repository import (
    count_completed_uses,
    lease_guard,
    requeue_rounds,
    seconds_per_pose,
)
from posegen.kit.time import utcnow
from posegen.observability.prometheus import PROCESS as METRICS

REFERENCE = POSE_REFERENCE


# The final event of each final status of a generation.
FINAL_EVENTS: dict[GenerationStatus, type[GenerationFinished]] = {
    GenerationStatus.COMPLETED: GenerationCompleted,
    GenerationStatus.PARTIAL: GenerationPartial,
    GenerationStatus.FAILED: GenerationFailed,
    GenerationStatus.CANCELED: GenerationCanceled,
}


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


async def mark_started(session: AsyncSession, generation_id: str, user_id: str) -> None:
    """The first claimed pose moves its generation from queued to processing."""
    await mark_all_started(session, {generation_id: user_id})


async def mark_all_started(session: AsyncSession, owners: Mapping[str, str]) -> None:
    """The generations of a batch of claimed poses (`owners`: generation id → user id) that are
    still queued move to processing, in one statement; a `generation.started` event each."""
    if not owners:
        return
    result = await session.execute(
        update(Generation)
        .where(Generation.id.in_(list(owners)), Generation.status == GenerationStatus.QUEUED.value)
        .values(status=GenerationStatus.PROCESSING.value, started_at=utcnow())
        .returning(Generation.id)
        .execution_options(synchronize_session=False)
    )
    for generation_id in sorted(result.scalars()):
        await events.append(session, generation_id, owners[generation_id], GenerationStarted())


async def complete(
    session: AsyncSession,
    pose: GeneratedPose,
    worker_id: str,
    fields: dict[str, Any],
    seconds_per_pose: float = 0.0,
) -> Applied | None:
    """Record a finished render. None when the lease was lost (the caller raises, so the unit of
    work rolls back, and drops its files); a cancelled generation's pose is cancelled instead
    (`Applied.canceled`).

    Three statements on the way every pose takes: one UPDATE of the generation row locks it (LOCK
    ORDER: before the pose), counts the pose and reserves the sequence numbers of its events; the
    lease-guarded UPDATE of the pose; one INSERT of the events. The last pose also finalises.
    `seconds_per_pose`: the measured pace the progress event's time remaining is estimated from."""
    counted = await count_completion(session, pose.generation_id)
    if counted is None:  # cancelled, or deleted: decided under the generation's lock
        generation = await lock_generation(session, pose.generation_id)
        if generation is None:
            return None
        outcome = await end(
            session, pose, PoseStatus.CANCELED, "CANCELED", "canceled by the user", worker_id=worker_id
        )
        return None if outcome is None else Applied(outcome.finished, canceled=True)
    now = utcnow()
    result = await session.execute(
        update(GeneratedPose)
        .where(lease_guard(GeneratedPose, pose.id, worker_id))
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
        .execution_options(synchronize_session=False)
    )
    if result.first() is None:
        return None
    after_commit(session, lambda: METRICS.pose_finished(PoseStatus.COMPLETED.value))
    keypoints = fields.get("detected_keypoints")
    completed = PoseCompleted(
        pose_id=pose.id,
        variation_key=pose.variation_key,
        thumbnail_key=fields.get("thumbnail_key"),
        pose_score=fields.get("pose_score"),
        pose_check=fields.get("pose_check"),
        detected_keypoints=DetectedKeypoints.model_validate(keypoints) if keypoints else None,
        rerenders=fields.get("rerenders", 0),
    )
    progress = counted.progress(seconds_per_pose)
    items: list[EventData] = [completed] if progress is None else [completed, progress]
    await events.insert_reserved(session, pose.generation_id, pose.user_id, items, counted.first_seq)
    return Applied(None if progress is not None else await finalize(session, pose.generation_id))


async def end(
    session: AsyncSession,
    pose: GeneratedPose,
    status: PoseStatus,
    code: str,
    message: str,
    *,
    worker_id: str | None = None,
    expect: PoseStatus = PoseStatus.RUNNING,
    fields: Mapping[str, Any] | None = None,
) -> Applied | None:
    """Fail or cancel a pose, refunding its own cost. Guarded by the lease when `worker_id` is given,
    else by the expected current status (expired leases dead-lettered). `fields`: more columns to
    set with it (the pose check that failed it)."""
    generation = await lock_generation(session, pose.generation_id)
    if generation is None:
        return None
    guard = (
        lease_guard(GeneratedPose, pose.id, worker_id)
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
            **(fields or {}),
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
    failed = PoseFailed(
        pose_id=pose.id, variation_key=pose.variation_key, error_code=ErrorCode(code), refunded=cost
    )
    return Applied(await _count(session, pose.generation_id, pose.user_id, status, first=[failed]))


_COUNTER = {
    PoseStatus.COMPLETED: Generation.poses_completed,
    PoseStatus.FAILED: Generation.poses_failed,
    PoseStatus.CANCELED: Generation.poses_canceled,
}


async def _count(
    session: AsyncSession,
    generation_id: str,
    user_id: str,
    status: PoseStatus,
    by: int = 1,
    first: Sequence[EventData] = (),
) -> Finished | None:
    """Count `by` poses that reached `status`; a progress event, or the final status for the last.
    `first`: the events of the change counted, written before that one; with the progress event
    they take one sequence reservation and one insert (`events.append_many`)."""
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
            Generation.engine,
        )
    )
    completed, failed, canceled, total, engine = result.one()
    if completed + failed + canceled < total:
        # A failure or cancel has no pace of its own: the engine's measured mean time per pose.
        per_pose = await seconds_per_pose(session, engine)
        progress = progress_event(completed, failed, canceled, total, per_pose)
        assert progress is not None  # some pose is still open
        await events.append_many(session, generation_id, user_id, [*first, progress])
        return None
    await events.append_many(session, generation_id, user_id, first)
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
    # Library usage counts completed poses, once per generation end rather than per pose: no extra
    # statement on a pose's way, and no hot library row locked by every completion.
    if generation.poses_completed:
        await count_completed_uses(session, generation.id)
    # After a requeue (`generation/requeue.py`) the generation ends again: the final event names the
    # round it ends, so a client tells it from the final event it saw before.
    rounds = await requeue_rounds(session, generation.id)
    final = FINAL_EVENTS[status](
        completed=generation.poses_completed,
        failed=generation.poses_failed,
        credit_refunded=generation.credit_refunded,
        round=rounds or None,
    )
    await events.append(session, generation.id, generation.user_id, final)
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
            PoseFailed(
                pose_id=row.id,
                variation_key=row.variation_key,
                error_code=ErrorCode.CANCELED,
                refunded=row.cost,
            )
            for row in canceled
        ],
    )
    return await _count(session, generation.id, generation.user_id, PoseStatus.CANCELED, by=len(canceled))
