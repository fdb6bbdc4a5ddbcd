"""The unlimited tier: a daily quota by UTC day, given back for failed work, credits once it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from posegen.auth.models import User
from posegen.credits import quota, service
from posegen.credits.errors import InsufficientCredits, InsufficientQuota
from posegen.db import Database
from tests.credits.helpers import balance_of
from tests.fixtures.factories import create_user, grant

NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def unlimited_user(
    db: Database, *, quota_per_day: int = 100, expires_at: datetime | None = None
) -> User:
    user = await create_user(db)
    async with db.session() as session:
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(
                unlimited_active=True, unlimited_daily_quota=quota_per_day, unlimited_expires_at=expires_at
            )
        )
    async with db.session(write=False) as session:
        loaded = await session.get(User, user.id)
    assert loaded is not None
    return loaded


async def pay_one(db: Database, user: User, now: datetime, reference: str) -> service.Payment:
    async with db.session() as session:
        return await service.pay(
            session,
            user,
            poses=1,
            credits=30,
            now=now,
            reason="pose",
            reference_type="pose",
            reference_id=reference,
        )


async def test_quota_of_100_passes_100_poses_then_refuses(db: Database) -> None:
    user = await unlimited_user(db)
    await grant(db, user, 1000)
    for index in range(100):
        payment = await pay_one(db, user, NOON, f"p{index}")
        assert payment == service.Payment(credits=0, quota_day=NOON.date())
    with pytest.raises(InsufficientQuota) as raised:
        await pay_one(db, user, NOON, "p100")
    assert raised.value.status == 403
    assert raised.value.details == {"requested": 1, "usedToday": 100, "dailyQuota": 100}
    assert await balance_of(db, user.id) == 1000  # quota, never credits


async def test_next_utc_day_starts_fresh(db: Database) -> None:
    user = await unlimited_user(db, quota_per_day=2)
    late = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
    await pay_one(db, user, late, "a")
    await pay_one(db, user, late, "b")
    with pytest.raises(InsufficientQuota):
        await pay_one(db, user, late, "c")
    assert (await pay_one(db, user, late + timedelta(seconds=1), "c")).quota_day == late.date() + timedelta(
        days=1
    )


async def test_given_back_quota_is_usable_again(db: Database) -> None:
    user = await unlimited_user(db, quota_per_day=3)
    async with db.session() as session:
        payment = await service.pay(
            session,
            user,
            poses=3,
            credits=90,
            now=NOON,
            reason="3 poses",
            reference_type="g",
            reference_id="g1",
        )
    with pytest.raises(InsufficientQuota):
        await pay_one(db, user, NOON, "x")
    async with db.session() as session:
        await service.pay_back(
            session,
            user_id=user.id,
            payment=payment,
            poses=2,
            reason="2 failed",
            reference_type="g",
            reference_id="g1",
        )
    await pay_one(db, user, NOON, "y")
    await pay_one(db, user, NOON, "z")
    with pytest.raises(InsufficientQuota):
        await pay_one(db, user, NOON, "w")


async def test_giving_back_more_than_used_is_refused(db: Database) -> None:
    user = await unlimited_user(db)
    await pay_one(db, user, NOON, "a")
    with pytest.raises(RuntimeError, match="exceeds"):
        async with db.session() as session:
            await quota.give_back(session, user.id, 2, NOON.date())


async def test_expired_or_inactive_tier_charges_credits(db: Database) -> None:
    user = await unlimited_user(db, expires_at=NOON - timedelta(seconds=1))
    await grant(db, user, 40)
    assert await pay_one(db, user, NOON, "a") == service.Payment(credits=30, quota_day=None)
    assert await balance_of(db, user.id) == 10
    with pytest.raises(InsufficientCredits):
        await pay_one(db, user, NOON, "b")
    async with db.session() as session:
        await service.pay_back(
            session,
            user_id=user.id,
            payment=service.Payment(credits=30, quota_day=None),
            poses=1,
            reason="failed",
            reference_type="pose",
            reference_id="a",
        )
    assert await balance_of(db, user.id) == 40


def test_tier_active_rules() -> None:
    user = User(unlimited_active=True, unlimited_expires_at=None)
    assert quota.tier_active(user, NOON)
    user.unlimited_expires_at = NOON
    assert not quota.tier_active(user, NOON)
    user.unlimited_expires_at = NOON + timedelta(days=1)
    assert quota.tier_active(user, NOON)
    user.unlimited_active = False
    assert not quota.tier_active(user, NOON)
