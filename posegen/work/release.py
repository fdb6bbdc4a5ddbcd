"""A stopping worker hands its leased work back to the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation import outcomes
from posegen.generation.locks import lock_generation
from posegen.generation.models import BackgroundChange, GeneratedPose
from posegen.work import leases, repository


@dataclass(frozen=True)
class Released:
    """What a stopping worker handed back (`release`)."""

    poses: int
    changes: int


async def release(session: AsyncSession, worker_id: str, now: datetime) -> Released:
    """Hand back every pose and background change `worker_id` still leases, because it is shutting
    down: queued again and available now, lease cleared, and the attempt not counted (attempts − 1),
    since it was cut short by the worker, not by the work. Conditional on still holding the lease, so
    a row another worker took over (or that reached an outcome) is left alone. No events: nothing
    ended, the work simply waits in the queue again.

    LOCK ORDER (generation/locks.py): each generation, in id order, before its poses and changes.
    Holding it also settles a cancel requested meanwhile: the released poses of a cancelled
    generation are cancelled and refunded here rather than left for the reconciler.
    """
    generation_ids = await repository.leased_generations(session, GeneratedPose, worker_id)
    generation_ids |= await repository.leased_generations(session, BackgroundChange, worker_id)
    poses = changes = 0
    for generation_id in sorted(generation_ids):
        generation = await lock_generation(session, generation_id)
        if generation is None:
            continue  # deleted: its poses went with it
        poses += await leases.hand_back(session, GeneratedPose, worker_id, generation_id, now)
        changes += await leases.hand_back(session, BackgroundChange, worker_id, generation_id, now)
        if generation.cancel_requested:
            await outcomes.cancel_queued(session, generation)
    return Released(poses, changes)
