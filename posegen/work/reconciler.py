"""The reconciler: repairs what crashed workers leave behind. Leader-free: every step is an
idempotent conditional update, so any number of processes may run it at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.db import Database
from posegen.generation import outcomes
from posegen.generation.locks import lock_generation
from posegen.generation.models import (
    GeneratedPose,
    PoseStatus,
)
from posegen.work import repository
from posegen.work.kinds.background import dead_letter_expired

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RecoveryRun:
    recovered: int
    dead_lettered: int
    finalized: int


async def reconcile(db: Database, now: datetime) -> RecoveryRun:
    """One reconciler run as one unit of work (see `reconcile_in`), re-run on a transient error."""
    return await db.run(lambda session: reconcile_in(session, now))


async def reconcile_in(session: AsyncSession, now: datetime) -> RecoveryRun:
    """Dead-letter poses out of attempts, cancel queued poses of cancelled generations, finalise
    generations whose poses are all terminal, re-queue expired leases; record the run.

    Every step is a conditional update, so running it twice, or in two processes, is harmless.
    LOCK ORDER (generation/locks.py): the generations that need work are locked one by one in id
    order, each before its poses; re-queueing comes last and skips rows a claim holds, so this
    transaction never waits for a pose while it holds a generation that someone waiting for it needs.
    """
    needing_work = await repository.generations_needing_recovery(session, now)
    dead_lettered = finalized = 0
    for generation_id in needing_work:
        generation = await lock_generation(session, generation_id)
        if generation is None:
            continue
        dying = repository.exhausted(GeneratedPose, now).where(GeneratedPose.generation_id == generation_id)
        for pose in list(await session.scalars(dying)):
            outcome = await outcomes.end(
                session,
                pose,
                PoseStatus.FAILED,
                "DEAD_LETTERED",
                f"lease expired after {pose.attempts} attempts",
            )
            dead_lettered += outcome is not None
        dead_lettered += await dead_letter_expired(session, now, generation_id)
        if generation.cancel_requested:
            await outcomes.cancel_queued(session, generation)
        finalized += await outcomes.finalize(session, generation_id) is not None

    recovered = await repository.requeue_expired(session, now)

    await repository.record_recovery(session, now, recovered, dead_lettered)
    if recovered or dead_lettered or finalized:
        log.info("reconciled", recovered=recovered, dead_lettered=dead_lettered, finalized=finalized)
    return RecoveryRun(recovered, dead_lettered, finalized)
