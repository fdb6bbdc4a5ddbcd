"""Claiming per-pose work on the database, with leases and fairness between users.

PostgreSQL: `SELECT … FOR UPDATE SKIP LOCKED` lets any number of workers
claim at once without blocking on each other's rows. SQLite: the write
transaction (`BEGIN IMMEDIATE`) serialises claims, which is all one machine needs.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.models import BackgroundChange, GeneratedPose, Generation, PoseStatus
from posegen.kit.orm import upsert
from posegen.work.models import QueueState, Worker

QUEUE_STATE_ID = 1


def claimable(now: datetime) -> ColumnElement[bool]:
    """Queued and due, or running with an expired lease (that attempt counted) and attempts left."""
    return or_(
        and_(GeneratedPose.status == PoseStatus.QUEUED.value, GeneratedPose.available_at <= now),
        and_(
            GeneratedPose.status == PoseStatus.RUNNING.value,
            GeneratedPose.lease_expires_at < now,
            GeneratedPose.attempts < GeneratedPose.max_attempts,
        ),
    )


async def is_paused(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(QueueState.paused).where(QueueState.id == QUEUE_STATE_ID)))


async def set_paused(session: AsyncSession, paused: bool) -> None:
    await session.execute(
        upsert(session, QueueState)
        .values(id=QUEUE_STATE_ID, paused=paused)
        .on_conflict_do_update(index_elements=[QueueState.id], set_={"paused": paused})
    )


async def claim(
    session: AsyncSession, worker_id: str, engines: Collection[str], now: datetime, lease_seconds: float
) -> GeneratedPose | None:
    """Take the next pose for this worker, or None.

    Order: the user with the fewest poses running now first (so one user's
    400 queued poses cannot starve another's one), then priority, then age.
    """
    if not engines or await is_paused(session):
        return None
    running = (
        select(GeneratedPose.user_id, func.count().label("running"))
        .where(GeneratedPose.status == PoseStatus.RUNNING.value, GeneratedPose.lease_expires_at >= now)
        .group_by(GeneratedPose.user_id)
        .subquery()
    )
    query = (
        select(GeneratedPose.id)
        .join(Generation, Generation.id == GeneratedPose.generation_id)
        .outerjoin(running, running.c.user_id == GeneratedPose.user_id)
        .where(
            claimable(now),
            GeneratedPose.engine.in_(engines),
            Generation.cancel_requested.is_(False),
        )
        .order_by(
            func.coalesce(running.c.running, 0),
            GeneratedPose.priority.desc(),
            GeneratedPose.created_at,
            GeneratedPose.variation_index,
        )
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=GeneratedPose, skip_locked=True)
    pose_id = await session.scalar(query)
    if pose_id is None:
        return None
    result = await session.execute(
        update(GeneratedPose)
        .where(GeneratedPose.id == pose_id)
        .values(
            status=PoseStatus.RUNNING.value,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=GeneratedPose.attempts + 1,
            started_at=now,
        )
        .returning(GeneratedPose)
    )
    return result.scalar_one()


async def renew(
    session: AsyncSession, pose_id: str, worker_id: str, now: datetime, lease_seconds: float
) -> bool:
    """Extend a lease this worker still holds; False when it lost it."""
    result = await session.execute(
        update(GeneratedPose)
        .where(
            GeneratedPose.id == pose_id,
            GeneratedPose.lease_owner == worker_id,
            GeneratedPose.status == PoseStatus.RUNNING.value,
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(GeneratedPose.id)
    )
    return result.first() is not None


async def heartbeat(
    session: AsyncSession, worker_id: str, hostname: str, pid: int, concurrency: int, busy: int, now: datetime
) -> None:
    values = {"hostname": hostname, "pid": pid, "concurrency": concurrency, "busy_slots": busy}
    await session.execute(
        upsert(session, Worker)
        .values(id=worker_id, last_heartbeat_at=now, started_at=now, **values)
        .on_conflict_do_update(index_elements=[Worker.id], set_={"last_heartbeat_at": now, **values})
    )


async def cancel_requested(session: AsyncSession, generation_id: str) -> bool:
    return bool(
        await session.scalar(select(Generation.cancel_requested).where(Generation.id == generation_id))
    )


async def queue_position(session: AsyncSession, before: datetime) -> int:
    """Poses waiting that were queued before `before` (what a new request waits behind)."""
    value = await session.scalar(
        select(func.count())
        .select_from(GeneratedPose)
        .where(GeneratedPose.status == PoseStatus.QUEUED.value, GeneratedPose.created_at < before)
    )
    return int(value or 0)


async def claim_background(
    session: AsyncSession, worker_id: str, engines: Collection[str], now: datetime, lease_seconds: float
) -> BackgroundChange | None:
    """Take the next background change whose pose's engine this worker can run."""
    if not engines or await is_paused(session):
        return None
    query = (
        select(BackgroundChange.id)
        .join(GeneratedPose, GeneratedPose.id == BackgroundChange.pose_id)
        .where(
            or_(
                and_(
                    BackgroundChange.status == PoseStatus.QUEUED.value, BackgroundChange.available_at <= now
                ),
                and_(
                    BackgroundChange.status == PoseStatus.RUNNING.value,
                    BackgroundChange.lease_expires_at < now,
                    BackgroundChange.attempts < BackgroundChange.max_attempts,
                ),
            ),
            GeneratedPose.engine.in_(engines),
        )
        .order_by(BackgroundChange.created_at)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=BackgroundChange, skip_locked=True)
    change_id = await session.scalar(query)
    if change_id is None:
        return None
    result = await session.execute(
        update(BackgroundChange)
        .where(BackgroundChange.id == change_id)
        .values(
            status=PoseStatus.RUNNING.value,
            lease_owner=worker_id,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=BackgroundChange.attempts + 1,
        )
        .returning(BackgroundChange)
    )
    return result.scalar_one()
