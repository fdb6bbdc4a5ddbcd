"""Writes a worker makes to the rows it leases: renewing the lease, recording remote work, queueing
a row again after a failure, handing rows back unrun. Each is guarded by the lease (the claim itself
is in `work/repository.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.models import PoseStatus
from posegen.generation.repository import Leased, lease_guard


async def renew(
    session: AsyncSession,
    model: type[Leased],
    row_id: str,
    worker_id: str,
    now: datetime,
    lease_seconds: float,
) -> bool:
    """Extend a lease this worker still holds; False when it lost it."""
    result = await session.execute(
        update(model)
        .where(lease_guard(model, row_id, worker_id))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def retry_later(
    session: AsyncSession,
    model: type[Leased],
    row_id: str,
    worker_id: str,
    available_at: datetime,
    code: str,
    message: str,
) -> bool:
    """Put a claimed row back in the queue after a transient failure; False if the lease was lost."""
    result = await session.execute(
        update(model)
        .where(lease_guard(model, row_id, worker_id))
        .values(
            status=PoseStatus.QUEUED.value,
            lease_owner=None,
            lease_expires_at=None,
            available_at=available_at,
            error_code=code,
            error_message=message[:500],
            # The remote work failed; the next attempt submits anew.
            remote_server=None,
            remote_job_id=None,
        )
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def remember_remote(
    session: AsyncSession, model: type[Leased], row_id: str, worker_id: str, server: str, job_id: str
) -> bool:
    """Record where a remote engine is about to hold the row's work; False if the lease was lost
    (the render must not submit it then)."""
    result = await session.execute(
        update(model)
        .where(lease_guard(model, row_id, worker_id))
        .values(remote_server=server, remote_job_id=job_id)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return result.first() is not None


async def hand_back(
    session: AsyncSession, model: type[Leased], worker_id: str, generation_id: str, now: datetime
) -> int:
    """Queue again every row of a generation `worker_id` still leases, available now, its attempt
    not counted; how many."""
    result = await session.execute(
        update(model)
        .where(
            model.lease_owner == worker_id,
            model.status == PoseStatus.RUNNING.value,
            model.generation_id == generation_id,
        )
        .values(
            status=PoseStatus.QUEUED.value,
            lease_owner=None,
            lease_expires_at=None,
            available_at=now,
            attempts=model.attempts - 1,
        )
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())


async def unclaim(
    session: AsyncSession, model: type[Leased], ids: Sequence[str], worker_id: str, now: datetime
) -> int:
    """Queue again rows `worker_id` just claimed but will not run (more than its slots take at
    once), available now, their attempt not counted; how many. Only the rows change (like
    `retry_later`), so only they are locked."""
    result = await session.execute(
        update(model)
        .where(model.id.in_(ids), model.lease_owner == worker_id, model.status == PoseStatus.RUNNING.value)
        .values(
            status=PoseStatus.QUEUED.value,
            lease_owner=None,
            lease_expires_at=None,
            available_at=now,
            attempts=model.attempts - 1,
        )
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.all())
