"""The reconciler: repairs what crashed workers leave behind. Leader-free: every step is an
idempotent conditional update, so any number of processes may run it at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.db import Database
from posegen.generation.locks import lock_generation
from posegen.generation.models import (
    TERMINAL_GENERATION,
    TERMINAL_POSE,
    BackgroundChange,
    GeneratedPose,
    Generation,
    PoseStatus,
)
from posegen.work import outcomes, repository
from posegen.work.kinds.background import dead_letter_expired, exhausted_changes

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
    exhausted = (
        GeneratedPose.status == PoseStatus.RUNNING.value,
        GeneratedPose.lease_expires_at < now,
        GeneratedPose.attempts >= GeneratedPose.max_attempts,
    )
    dying = select(GeneratedPose.generation_id).where(*exhausted)
    stranded = (
        select(GeneratedPose.generation_id)
        .join(Generation, Generation.id == GeneratedPose.generation_id)
        .where(Generation.cancel_requested.is_(True), GeneratedPose.status == PoseStatus.QUEUED.value)
    )
    open_poses = exists().where(
        GeneratedPose.generation_id == Generation.id,
        GeneratedPose.status.not_in([status.value for status in TERMINAL_POSE]),
    )
    unfinished = select(Generation.id).where(
        Generation.status.not_in([status.value for status in TERMINAL_GENERATION]), ~open_poses
    )
    changes = exhausted_changes(now).with_only_columns(BackgroundChange.generation_id)
    needing_work = sorted(
        set(await session.scalars(dying))
        | set(await session.scalars(stranded))
        | set(await session.scalars(unfinished))
        | set(await session.scalars(changes))
    )

    dead_lettered = finalized = 0
    for generation_id in needing_work:
        generation = await lock_generation(session, generation_id)
        if generation is None:
            continue
        for pose in list(
            await session.scalars(
                select(GeneratedPose).where(*exhausted).where(GeneratedPose.generation_id == generation_id)
            )
        ):
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

    expired = select(GeneratedPose.id).where(
        GeneratedPose.status == PoseStatus.RUNNING.value,
        GeneratedPose.lease_expires_at < now,
        GeneratedPose.attempts < GeneratedPose.max_attempts,
    )
    if session.get_bind().dialect.name == "postgresql":
        expired = expired.with_for_update(skip_locked=True)
    requeued = await session.execute(
        update(GeneratedPose)
        .where(GeneratedPose.id.in_(expired.scalar_subquery()))
        .values(status=PoseStatus.QUEUED.value, lease_owner=None, lease_expires_at=None, available_at=now)
        .returning(GeneratedPose.id)
        .execution_options(synchronize_session=False)
    )
    recovered = len(requeued.all())

    await repository.record_recovery(session, now, recovered, dead_lettered)
    if recovered or dead_lettered or finalized:
        log.info("reconciled", recovered=recovered, dead_lettered=dead_lettered, finalized=finalized)
    return RecoveryRun(recovered, dead_lettered, finalized)
