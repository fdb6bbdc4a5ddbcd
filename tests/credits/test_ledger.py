"""The ledger: conditional debits, unique refunds, idempotency keys, all-or-nothing writes."""

from __future__ import annotations

import pytest

from posegen.credits import ledger
from posegen.credits.errors import InsufficientCredits
from posegen.credits.models import EntryKind
from posegen.db import Database
from posegen.errors import IdempotencyKeyReused
from tests.credits.helpers import audit_count, balance_of, entries_of, ledger_sum
from tests.fixtures.factories import create_user, grant


async def test_grant_and_debit_write_entry_and_audit(db: Database) -> None:
    user = await create_user(db)
    assert await grant(db, user, 100) == 100
    async with db.session() as session:
        entry = await ledger.debit(
            session, user_id=user.id, amount=30, reason="pose", reference_type="generation", reference_id="g1"
        )
    assert entry.amount == -30
    assert entry.balance_after == 70
    assert await balance_of(db, user.id) == 70 == await ledger_sum(db, user.id)
    assert [e.kind for e in await entries_of(db, user.id)] == ["bonus", "usage"]
    assert await audit_count(db, user.id) == 2


async def test_debit_beyond_balance_changes_nothing(db: Database) -> None:
    user = await create_user(db)
    await grant(db, user, 20)
    with pytest.raises(InsufficientCredits) as raised:
        async with db.session() as session:
            await ledger.debit(session, user_id=user.id, amount=30, reason="pose")
    assert raised.value.details == {"required": 30, "available": 20}
    assert await balance_of(db, user.id) == 20
    assert len(await entries_of(db, user.id)) == 1
    assert await audit_count(db, user.id) == 1


async def test_refunding_one_reference_twice_writes_one_entry(db: Database) -> None:
    user = await create_user(db)
    await grant(db, user, 100)
    refunds = []
    for _ in range(2):
        async with db.session() as session:
            refunds.append(
                await ledger.refund(
                    session,
                    user_id=user.id,
                    amount=30,
                    reason="failed pose",
                    reference_type="generated_pose",
                    reference_id="p1",
                )
            )
    assert refunds[0].id == refunds[1].id
    assert await balance_of(db, user.id) == 130
    assert [e.kind for e in await entries_of(db, user.id)] == ["bonus", "refund"]


async def test_double_refund_in_one_transaction_is_one_entry(db: Database) -> None:
    user = await create_user(db)
    async with db.session() as session:
        first = await ledger.refund(
            session, user_id=user.id, amount=15, reason="r", reference_type="pose", reference_id="p9"
        )
        second = await ledger.refund(
            session, user_id=user.id, amount=15, reason="r", reference_type="pose", reference_id="p9"
        )
    assert first.id == second.id
    assert await balance_of(db, user.id) == 15 == await ledger_sum(db, user.id)


async def test_rolled_back_transaction_leaves_no_entry_and_no_audit(db: Database) -> None:
    user = await create_user(db)
    await grant(db, user, 100)

    async def debit_then_fail() -> None:
        async with db.session() as session:
            await ledger.debit(session, user_id=user.id, amount=40, reason="pose")
            await ledger.refund(
                session, user_id=user.id, amount=40, reason="r", reference_type="pose", reference_id="p1"
            )
            raise RuntimeError("the request failed after charging")

    with pytest.raises(RuntimeError):
        await debit_then_fail()
    assert await balance_of(db, user.id) == 100
    assert len(await entries_of(db, user.id)) == 1
    assert await audit_count(db, user.id) == 1


async def test_idempotency_key_returns_first_entry_and_refuses_other_amounts(db: Database) -> None:
    user = await create_user(db)
    await grant(db, user, 100)
    async with db.session() as session:
        first = await ledger.debit(session, user_id=user.id, amount=10, reason="x", idempotency_key="k1")
    async with db.session() as session:
        again = await ledger.debit(session, user_id=user.id, amount=10, reason="x", idempotency_key="k1")
    assert again.id == first.id
    with pytest.raises(IdempotencyKeyReused):
        async with db.session() as session:
            await ledger.debit(session, user_id=user.id, amount=11, reason="x", idempotency_key="k1")
    assert await balance_of(db, user.id) == 90


async def test_ledger_refuses_impossible_movements(db: Database) -> None:
    user = await create_user(db)
    async with db.session() as session:
        for amount, kind in [
            (0, EntryKind.BONUS),
            (5, EntryKind.USAGE),
            (-5, EntryKind.REFUND),
            (ledger.MAX_AMOUNT + 1, EntryKind.BONUS),
        ]:
            with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
                await ledger.move(session, user_id=user.id, amount=amount, kind=kind, reason="x")
        with pytest.raises(ValueError, match="reference"):
            await ledger.move(session, user_id=user.id, amount=5, kind=EntryKind.REFUND, reason="x")
