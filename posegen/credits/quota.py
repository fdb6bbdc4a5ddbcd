"""The unlimited tier: a daily pose quota instead of credits, keyed by UTC day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.audit import service as audit
from posegen.auth.models import User
from posegen.credits import repository
from posegen.credits.errors import InsufficientQuota


def utc_day(moment: datetime) -> date:
    """The quota day a moment belongs to."""
    return moment.astimezone(UTC).date()


def tier_active(user: User, now: datetime) -> bool:
    """Whether the account's unlimited tier is switched on and not expired at `now`."""
    if not user.unlimited_active:
        return False
    return user.unlimited_expires_at is None or user.unlimited_expires_at > now


async def consume(
    session: AsyncSession, user: User, poses: int, day: date, actor_id: str | None = None
) -> int:
    """Count `poses` against the day's quota, atomically; `InsufficientQuota` when they do not fit."""
    used = await repository.use_quota(session, user.id, day, poses, user.unlimited_daily_quota)
    if used is None:
        current = await repository.used_quota(session, user.id, day)
        raise InsufficientQuota(requested=poses, used=current, quota=user.unlimited_daily_quota)
    await audit.record(
        session,
        action="quota.consume",
        target_type="unlimited_usage",
        target_id=f"{user.id}:{day.isoformat()}",
        actor_id=actor_id,
        user_id=user.id,
        before={"used": used - poses},
        after={"used": used},
    )
    return used


async def give_back(
    session: AsyncSession, user_id: str, poses: int, day: date, actor_id: str | None = None
) -> int:
    """Return `poses` to the quota of the day they were used on (failed or cancelled poses)."""
    used = await repository.return_quota(session, user_id, day, poses)
    if used is None:
        # Callers give back only what they consumed, once; anything else is a bug
        # that must roll the transaction back rather than invent quota.
        raise RuntimeError(f"quota give-back of {poses} exceeds what {user_id} used on {day}")
    await audit.record(
        session,
        action="quota.give_back",
        target_type="unlimited_usage",
        target_id=f"{user_id}:{day.isoformat()}",
        actor_id=actor_id,
        user_id=user_id,
        before={"used": used + poses},
        after={"used": used},
    )
    return used
