"""Requeueing finished poses: the one reset behind the user's retry and the admin's requeue of a
dead letter. It reopens a finished generation so that clients can follow it: one
`generation.requeued` event names the round and the poses, the counters drop the requeued poses,
and the generation's next final event carries the same round (`outcomes.finalize`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.service import Payment
from posegen.generation import events, repository
from posegen.generation.event_kinds import GenerationRequeued
from posegen.generation.models import TERMINAL_GENERATION, Generation, GenerationStatus, PoseStatus
from posegen.kit.time import utcnow


@dataclass(frozen=True)
class Requeued:
    round: int
    poses: int


async def requeue(
    session: AsyncSession,
    generation: Generation,
    poses: Sequence[tuple[str, PoseStatus]],
    *,
    cost: int,
    payment: Payment | None = None,
) -> Requeued:
    """Queue `poses` (failed or cancelled poses of `generation`, from `repository.requeueable`) again
    at `cost` each, paid by `payment` when charged (None: free, e.g. a dead letter refunded before).

    The caller holds the generation's lock (LOCK ORDER, generation/locks.py). A finished generation
    is queued again and its cancel request dropped (a cancelled generation resumes this way); one
    still running keeps its status.
    """
    now = utcnow()
    await repository.reset_poses(session, [pose_id for pose_id, _ in poses], cost, now)
    generation.poses_failed -= sum(status is PoseStatus.FAILED for _, status in poses)
    generation.poses_canceled -= sum(status is PoseStatus.CANCELED for _, status in poses)
    if payment is not None:
        generation.credit_charged += payment.credits
        # The poses that can still be refunded are all of this round, paid this way.
        generation.quota_day = payment.quota_day
    if GenerationStatus(generation.status) in TERMINAL_GENERATION:
        generation.cancel_requested = False
        generation.status = GenerationStatus.QUEUED.value
        generation.completed_at = None
    await session.flush()
    round_ = await repository.requeue_rounds(session, generation.id) + 1
    await events.append(
        session,
        generation.id,
        generation.user_id,
        GenerationRequeued(
            round=round_,
            status=generation.status,
            retried=len(poses),
            pose_ids=[pose_id for pose_id, _ in poses],
            credit_charged=payment.credits if payment is not None else 0,
        ),
    )
    return Requeued(round_, len(poses))
