"""The SQL of the work package besides the claims (`work/claims.py`): lease-guarded reads,
recovery, heartbeats, the queue's state and the admin's queue queries. Rules (what a claim means,
when to retry, who is refunded) live in the callers.

Every leased table (a pose, a background change) has the same lease columns, so one set of
functions serves every job kind, parameterised by its model. PostgreSQL's requeue of expired
leases skips rows a claim holds (`SKIP LOCKED`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    Select,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.models import (
    TERMINAL_GENERATION,
    TERMINAL_POSE,
    BackgroundChange,
    GeneratedPose,
    Generation,
    PoseStatus,
)
from posegen.generation.repository import Leased
from posegen.kit.orm import upsert
from posegen.kit.pagination import PageRequest, paginate
from posegen.work.models import QueueState, Worker

QUEUE_STATE_ID = 1
DEAD_LETTERED = "DEAD_LETTERED"

LeasedT = TypeVar("LeasedT", GeneratedPose, BackgroundChange)


# -- lease-guarded writes ----------------------------------------------------------------------------


async def leased_generations(session: AsyncSession, model: type[Leased], worker_id: str) -> set[str]:
    """The generations of the rows `worker_id` leases."""
    held = select(model.generation_id).where(
        model.lease_owner == worker_id, model.status == PoseStatus.RUNNING.value
    )
    return set(await session.scalars(held))


# -- recovery ------------------------------------------------------------------------------------------


def exhausted(model: type[LeasedT], now: datetime) -> Select[LeasedT]:
    """Rows whose lease expired on their last attempt: the reconciler's dead letters."""
    return select(model).where(
        model.status == PoseStatus.RUNNING.value,
        model.lease_expires_at < now,
        model.attempts >= model.max_attempts,
        model.refunded.is_(False),
    )


async def generations_needing_recovery(session: AsyncSession, now: datetime) -> list[str]:
    """In id order, the generations with a dead letter to write, queued poses of a cancel to end,
    or every pose terminal but no final status yet."""
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
    found: set[str] = set()
    for query in (
        exhausted(GeneratedPose, now).with_only_columns(GeneratedPose.generation_id),
        exhausted(BackgroundChange, now).with_only_columns(BackgroundChange.generation_id),
        stranded,
        unfinished,
    ):
        found |= set(await session.scalars(query))
    return sorted(found)


async def requeue_expired(session: AsyncSession, now: datetime) -> int:
    """Queue again the poses whose lease expired with attempts left, skipping rows a claim holds;
    how many."""
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
    return len(requeued.all())


async def cancel_requested(session: AsyncSession, generation_id: str) -> bool:
    return bool(
        await session.scalar(select(Generation.cancel_requested).where(Generation.id == generation_id))
    )


# -- the queue's state ---------------------------------------------------------------------------------


async def is_paused(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(QueueState.paused).where(QueueState.id == QUEUE_STATE_ID)))


async def set_paused(session: AsyncSession, paused: bool) -> None:
    await session.execute(
        upsert(session, QueueState)
        .values(id=QUEUE_STATE_ID, paused=paused)
        .on_conflict_do_update(index_elements=[QueueState.id], set_={"paused": paused})
    )


async def record_recovery(session: AsyncSession, now: datetime, recovered: int, dead_lettered: int) -> None:
    values = {"last_recovery_at": now, "last_recovered": recovered, "last_dead_lettered": dead_lettered}
    await session.execute(
        upsert(session, QueueState)
        .values(id=QUEUE_STATE_ID, paused=False, **values)
        .on_conflict_do_update(index_elements=[QueueState.id], set_=values)
    )


async def queue_state(session: AsyncSession) -> QueueState | None:
    return await session.get(QueueState, QUEUE_STATE_ID)


async def heartbeat(
    session: AsyncSession, worker_id: str, hostname: str, pid: int, concurrency: int, busy: int, now: datetime
) -> None:
    values = {"hostname": hostname, "pid": pid, "concurrency": concurrency, "busy_slots": busy}
    await session.execute(
        upsert(session, Worker)
        .values(id=worker_id, last_heartbeat_at=now, started_at=now, **values)
        .on_conflict_do_update(index_elements=[Worker.id], set_={"last_heartbeat_at": now, **values})
    )


# -- admin queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueCounts:
    queued: int
    running: int
    stalled: int
    dead: int
    oldest_queued_at: datetime | None


async def queue_counts(session: AsyncSession, now: datetime) -> QueueCounts:
    """Poses by queue state: queued, running, stalled (lease expired), dead-lettered; the oldest wait."""
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
    return QueueCounts(
        queued=by_status.get(PoseStatus.QUEUED.value, 0),
        running=by_status.get(PoseStatus.RUNNING.value, 0),
        stalled=int(stalled or 0),
        dead=int(dead or 0),
        oldest_queued_at=oldest,
    )


async def live_workers(session: AsyncSession, limit: int = 100) -> list[Worker]:
    """The workers by their last heartbeat, newest first."""
    return list(await session.scalars(select(Worker).order_by(Worker.last_heartbeat_at.desc()).limit(limit)))


async def dead_letters(session: AsyncSession, page: PageRequest) -> tuple[list[GeneratedPose], int]:
    """Poses that ran out of attempts, newest first; and how many there are."""
    query = select(GeneratedPose).where(GeneratedPose.error_code == DEAD_LETTERED)
    return await paginate(session, query, page, GeneratedPose.completed_at.desc(), GeneratedPose.id)
