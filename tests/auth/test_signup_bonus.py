"""`POSEGEN_CREDITS_SIGNUP_BONUS`: a self-registered account's starting credits, through the ledger."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import select

from posegen.app import create_app
from posegen.credits import bonus
from posegen.credits.models import CreditEntry
from posegen.db import Database
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import bearer, make_settings, open_client

REGISTER = "/api/auth/register"


async def entries(db: Database, user_id: str) -> list[CreditEntry]:
    async with db.session(write=False) as session:
        return list(await session.scalars(select(CreditEntry).where(CreditEntry.user_id == user_id)))


async def register(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    response = await client.post(REGISTER, json={"email": email, "password": "long enough pw", "name": "N"})
    assert response.status_code == 201, response.text
    return {"id": response.json()["user"]["id"], "token": response.json()["token"]}


async def test_each_new_account_gets_the_bonus_once_through_the_ledger(
    db: Database, database_url: str, data_dir: Path
) -> None:
    settings = make_settings(database_url, data_dir, credits={"signup_bonus": 250})
    async for client in open_client(create_app(settings, embed_worker=False)):
        ada = await register(client, "ada@example.com")
        bob = await register(client, "bob@example.com")
        balance = await client.get("/api/credits/balance", headers=bearer(ada["token"]))
        assert balance.status_code == 200 and balance.json()["balance"] == 250
        history = (await client.get("/api/credits/history", headers=bearer(ada["token"]))).json()
        kinds = [entry["kind"] for entry in history["entries"]]
        assert kinds == ["bonus"]
        # A refused registration (the email is taken) grants nothing.
        taken = await client.post(
            REGISTER, json={"email": "ADA@example.com", "password": "long enough pw", "name": "N"}
        )
        assert taken.status_code == 409
    for user in (ada, bob):
        [entry] = await entries(db, user["id"])
        assert (entry.kind, entry.amount, entry.balance_after) == ("bonus", 250, 250)
        assert entry.idempotency_key == bonus.SIGNUP_BONUS_KEY
        assert await balance_of(db, user["id"]) == 250 == await ledger_sum(db, user["id"])

    # Written again (a re-run unit of work, a second call): the key makes it a no-op.
    async with db.session() as session:
        await bonus.grant_signup_bonus(session, ada["id"], 250)
    assert len(await entries(db, ada["id"])) == 1
    assert await balance_of(db, ada["id"]) == 250 == await ledger_sum(db, ada["id"])


async def test_no_bonus_by_default(db: Database, client: httpx.AsyncClient) -> None:
    ada = await register(client, "ada@example.com")
    assert await entries(db, ada["id"]) == []
    assert await balance_of(db, ada["id"]) == 0
