"""`posegen doctor` passes on a healthy database and reports corruption; `credits grant` moves money."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from posegen.config import Settings
from posegen.credits import ledger
from posegen.db import Database
from posegen.doctor import examine
from tests.credits.helpers import balance_of, entries_of
from tests.fixtures.factories import create_user, grant
from tests.generation.helpers import scene, submit
from tests.test_cli import cli_env, posegen

pytestmark = pytest.mark.slow


async def test_doctor_passes_then_reports_a_corrupted_balance(
    db: Database, database_url: str, data_dir: Path
) -> None:
    user = await create_user(db, email="victim@example.com")
    await grant(db, user, 100)
    async with db.session() as session:
        await ledger.debit(session, user_id=user.id, amount=30, reason="pose")
        await ledger.refund(
            session, user_id=user.id, amount=30, reason="failed", reference_type="pose", reference_id="p1"
        )
    env = cli_env(database_url, data_dir)

    healthy = posegen(env, "doctor")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "FAIL" not in healthy.stdout

    async with db.session() as session:
        await session.execute(text("UPDATE credit_accounts SET balance = balance + 5"))
    corrupted = posegen(env, "doctor")
    assert corrupted.returncode == 1
    assert "FAIL balance equals ledger sum" in corrupted.stdout
    assert f"victim@example.com ({user.id}) has balance 105, ledger sums to 100" in corrupted.stdout


async def test_doctor_reports_an_unaudited_entry(db: Database) -> None:
    user = await create_user(db)
    await grant(db, user, 10)
    async with db.session() as session:
        await session.execute(text("DELETE FROM audit_log"))
    findings = {finding.check: finding for finding in await examine(db)}
    assert findings["balance equals ledger sum, never negative"].ok
    problems = findings["every ledger entry audited"].problems
    assert len(problems) == 1
    assert user.id in problems[0]


async def test_credits_grant_and_demo_welcome_credits(
    db: Database, database_url: str, data_dir: Path
) -> None:
    user = await create_user(db, email="buyer@example.com")
    env = cli_env(database_url, data_dir)
    granted = posegen(env, "credits", "grant", "Buyer@example.com", "250", "--reason", "support ticket 7")
    assert granted.returncode == 0, granted.stderr
    assert "balance 250" in granted.stdout
    assert [(e.kind, e.amount, e.reason) for e in await entries_of(db, user.id)] == [
        ("admin_grant", 250, "support ticket 7")
    ]
    assert posegen(env, "credits", "grant", "nobody@example.com", "5", "--reason", "x").returncode == 1
    assert posegen(env, "credits", "grant", "buyer@example.com", "0", "--reason", "x").returncode == 2

    for _ in range(2):
        assert posegen(env, "users", "demo").returncode == 0
    async with db.session(write=False) as session:
        demo_id = (
            await session.execute(text("SELECT id FROM users WHERE email = 'demo@posegen.local'"))
        ).scalar_one()
    assert await balance_of(db, demo_id) == 1000
    assert posegen(env, "doctor").returncode == 0


async def test_doctor_fails_on_extra_charges_of_a_generation_with_the_numbers(
    client: httpx.AsyncClient, db: Database, database_url: str, data_dir: Path, settings: Settings
) -> None:
    world = await scene(db, settings)
    accepted = await submit(
        client,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
            "batchSize": 2,
        },
    )
    generation_id = accepted.json()["generationId"]
    env = cli_env(database_url, data_dir)
    assert posegen(env, "doctor").returncode == 0

    # The P0 state: concurrent retries each charged the generation; the balance still equals the
    # ledger, and the generation still agrees with its poses — only the ledger tells.
    async with db.session() as session:
        for _ in range(9):
            await ledger.debit(
                session,
                user_id=world.user.id,
                amount=120,
                reason="retry of 4 failed poses",
                reference_type="generation",
                reference_id=generation_id,
            )
    corrupted = posegen(env, "doctor")

    assert corrupted.returncode == 1
    assert "ok   balance equals ledger sum" in corrupted.stdout
    assert "ok   generation charges match their poses" in corrupted.stdout
    assert "FAIL generation charges match the ledger" in corrupted.stdout
    assert (
        f"generation {generation_id}: its ledger entries sum to -1200, but it says charged 120, "
        "refunded 0 (net -120)"
    ) in corrupted.stdout
