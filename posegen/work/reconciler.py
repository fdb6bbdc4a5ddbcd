"""The reconciler: repairs what crashed workers leave behind. Leader-free: every step is an
idempotent conditional update, so any number of processes may run it at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.db import Database
from posegen.generation.models import (
    TERMINAL_GENERATION,
    TERMINAL_POSE,
    GeneratedPose,
    Generation,
    PoseStatus,
)
from posegen.kit.orm import upsert
from posegen.work import outcomes
from posegen.work.background_work import dead_letter_expired
from posegen.work.models import QueueState
from posegen.work.queue import QUEUE_STATE_ID

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class RecoveryRun:
    recovered: int
    dead_lettered: int
    finalized: int


async def reconcile(db: Database, now: datetime) -> RecoveryRun:
    """One reconciler run in its own unit of work (see `reconcile_in`)."""
    async with db.session() as session:
        return await reconcile_in(session, now)


async def reconcile_in(session: AsyncSession, now: datetime) -> RecoveryRun:
    """Re-queue expired leases, dead-letter poses out of attempts, cancel queued poses of
    cancelled generations, finalise generations whose poses are all terminal; record the run.
    Every step is a conditional update, so running it twice, or in two processes, is harmless."""
    requeued = await session.execute(
        update(GeneratedPose)
        .where(
            GeneratedPose.status == PoseStatus.RUNNING.value,
            GeneratedPose.lease_expires_at < now,
            GeneratedPose.attempts < GeneratedPose.max_attempts,
        )
        .values(status=PoseStatus.QUEUED.value, lease_owner=None, lease_expires_at=None, available_at=now)
        .returning(GeneratedPose.id)
    )
    recovered = len(requeued.all())

    dead_lettered = 0
    expired = await session.scalars(
        select(GeneratedPose).where(
            GeneratedPose.status == PoseStatus.RUNNING.value,
            GeneratedPose.lease_expires_at < now,
            GeneratedPose.attempts >= GeneratedPose.max_attempts,
        )
    )
    for pose in list(expired):
        outcome = await outcomes.end(
            session, pose, PoseStatus.FAILED, "DEAD_LETTERED", f"lease expired after {pose.attempts} attempts"
        )
        dead_lettered += outcome is not None
    dead_lettered += await dead_letter_expired(session, now)

    stranded = await session.scalars(
        select(GeneratedPose)
        .join(Generation, Generation.id == GeneratedPose.generation_id)
        .where(Generation.cancel_requested.is_(True), GeneratedPose.status == PoseStatus.QUEUED.value)
    )
    for pose in list(stranded):
        await outcomes.end(
            session, pose, PoseStatus.CANCELED, "CANCELED", "canceled by the user", expect=PoseStatus.QUEUED
        )

    open_poses = exists().where(
        GeneratedPose.generation_id == Generation.id,
        GeneratedPose.status.not_in([status.value for status in TERMINAL_POSE]),
    )
    candidates = await session.scalars(
        select(Generation.id).where(
            Generation.status.not_in([status.value for status in TERMINAL_GENERATION]), ~open_poses
        )
    )
    finalized = 0
    for generation_id in list(candidates):
        finalized += await outcomes.finalize(session, generation_id) is not None

    values = {"last_recovery_at": now, "last_recovered": recovered, "last_dead_lettered": dead_lettered}
    await session.execute(
        upsert(session, QueueState)
        .values(id=QUEUE_STATE_ID, paused=False, **values)
        .on_conflict_do_update(index_elements=[QueueState.id], set_=values)
    )
    if recovered or dead_lettered or finalized:
        log.info("reconciled", recovered=recovered, dead_lettered=dead_lettered, finalized=finalized)
    return RecoveryRun(recovered, dead_lettered, finalized)
