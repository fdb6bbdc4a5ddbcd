"""Concurrent debits never overdraw: 200 debits of 30 against 3,000 credits."""

from __future__ import annotations

import asyncio

import httpx

from posegen.auth.models import Role
from posegen.config import Settings
from posegen.credits import ledger
from posegen.credits.errors import InsufficientCredits
from posegen.db import Database, create_engine
from tests.credits.helpers import balance_of, entries_of, ledger_sum
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user, grant

DEBITS = 200
COST = 30
START = 3000


async def test_concurrent_debits_on_separate_connections(
    db: Database, database_url: str, backend: str
) -> None:
    user = await create_user(db)
    await grant(db, user, START)
    # PostgreSQL here allows 100 connections: 80 stay open at once, each
    # carrying debits in its own transaction; SQLite gets a connection per task
    # from its pool and serialises writers with BEGIN IMMEDIATE.
    engine = (
        create_engine(database_url, pool_size=80, max_overflow=0)
        if backend == "postgresql"
        else create_engine(database_url)
    )
    racing = Database(engine)
    start = asyncio.Event()

    async def one_debit(index: int) -> bool:
        await start.wait()
        try:
            async with racing.session() as session:
                await ledger.debit(session, user_id=user.id, amount=COST, reason=f"race {index}")
        except InsufficientCredits:
            return False
        return True

    try:
        tasks = [asyncio.create_task(one_debit(index)) for index in range(DEBITS)]
        await asyncio.sleep(0)
        start.set()
        outcomes = await asyncio.gather(*tasks)
    finally:
        await racing.dispose()

    assert outcomes.count(True) == START // COST == 100
    assert outcomes.count(False) == DEBITS - 100
    assert await balance_of(db, user.id) == 0 == await ledger_sum(db, user.id)
    debits = [entry for entry in await entries_of(db, user.id) if entry.amount < 0]
    assert len(debits) == 100
    assert sorted(entry.balance_after for entry in debits) == list(range(0, START, COST))


async def test_concurrent_admin_debits_over_http(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await create_user(db, role=Role.ADMIN)
    user = await create_user(db)
    await grant(db, user, START)
    headers = bearer(token_for(settings, admin))

    async def one_debit(index: int) -> httpx.Response:
        return await client.post(
            f"/api/admin/users/{user.id}/credits",
            json={"amount": -COST, "reason": f"race {index}"},
            headers=headers,
        )

    responses = await asyncio.gather(*(one_debit(index) for index in range(DEBITS)))
    statuses = [response.status_code for response in responses]
    assert statuses.count(200) == 100, statuses
    assert statuses.count(402) == 100
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 402} == {"INSUFFICIENT_CREDITS"}
    assert sorted(r.json()["balance"] for r in responses if r.status_code == 200) == list(
        range(0, START, COST)
    )
    assert await balance_of(db, user.id) == 0 == await ledger_sum(db, user.id)
