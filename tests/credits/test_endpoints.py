"""`/api/credits`: balance with the unlimited tier, history newest first."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import update

from posegen.auth.models import User
from posegen.config import Settings
from posegen.credits import ledger, quota
from posegen.db import Database
from posegen.kit.time import utcnow
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user, grant


async def test_balance_without_tier(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    user = await create_user(db)
    headers = bearer(token_for(settings, user))
    assert (await client.get("/api/credits/balance", headers=headers)).json() == {
        "balance": 0,
        "unlimited": None,
    }
    await grant(db, user, 250)
    assert (await client.get("/api/credits/balance", headers=headers)).json()["balance"] == 250


async def test_balance_with_tier_shows_usage_today(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    user = await create_user(db)
    expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
    async with db.session() as session:
        await session.execute(
            update(User)
            .where(User.id == user.id)
            .values(unlimited_active=True, unlimited_daily_quota=50, unlimited_expires_at=expires)
        )
        stored = await session.get(User, user.id)
        assert stored is not None
        await quota.consume(session, stored, 7, quota.utc_day(utcnow()))
    body = (await client.get("/api/credits/balance", headers=bearer(token_for(settings, user)))).json()
    assert body["unlimited"] == {
        "active": True,
        "dailyQuota": 50,
        "usedToday": 7,
        "expiresAt": expires.isoformat().replace("+00:00", "Z"),
    }


async def test_history_is_newest_first_and_paginated(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    user = await create_user(db)
    other = await create_user(db)
    await grant(db, user, 100, reason="first")
    await grant(db, other, 999, reason="not mine")
    async with db.session() as session:
        await ledger.debit(
            session,
            user_id=user.id,
            amount=30,
            reason="second",
            reference_type="generation",
            reference_id="g1",
        )
    await grant(db, user, 5, reason="third")
    headers = bearer(token_for(settings, user))
    body = (await client.get("/api/credits/history", params={"limit": 2}, headers=headers)).json()
    assert [entry["reason"] for entry in body["entries"]] == ["third", "second"]
    assert body["entries"][1] == {
        "id": body["entries"][1]["id"],
        "amount": -30,
        "balanceAfter": 70,
        "kind": "usage",
        "reason": "second",
        "referenceType": "generation",
        "referenceId": "g1",
        "createdAt": body["entries"][1]["createdAt"],
    }
    assert body["pagination"] == {"page": 1, "limit": 2, "total": 3, "totalPages": 2, "hasMore": True}
    page2 = (await client.get("/api/credits/history", params={"limit": 2, "page": 2}, headers=headers)).json()
    assert [entry["reason"] for entry in page2["entries"]] == ["first"]
    assert (await client.get("/api/credits/history")).status_code == 401
