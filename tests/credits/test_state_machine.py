"""Property test: any sequence of money operations keeps every invariant, on both databases.

Grants, debits, refunds (repeated), idempotent grants, rolled-back
transactions, unlimited-tier changes, quota use and give-back and day
changes run against the real database while a plain model predicts the
outcome; after every step balances, ledger sums, quota rows and `posegen
doctor`'s checks must agree with it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from posegen.auth.models import User
from posegen.credits import ledger, service
from posegen.credits.errors import InsufficientCredits, InsufficientQuota
from posegen.credits.models import CreditAccount, CreditEntry, EntryKind, UnlimitedUsage
from posegen.db import Database, create_engine
from posegen.doctor import examine
from posegen.errors import IdempotencyKeyReused
from posegen.kit.ids import new_id
from tests.fixtures.databases import empty_all_tables

START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
COST_PER_POSE = 15
USERS = 2


class Rollback(Exception):
    """Raised inside a unit of work to abandon it."""


@dataclass
class Tier:
    active: bool = False
    quota: int = 100
    expires_at: datetime | None = None

    def active_at(self, now: datetime) -> bool:
        return self.active and (self.expires_at is None or self.expires_at > now)


@dataclass
class Model:
    balances: list[int] = field(default_factory=lambda: [0] * USERS)
    tiers: list[Tier] = field(default_factory=lambda: [Tier() for _ in range(USERS)])
    usage: dict[tuple[int, date], int] = field(default_factory=dict)
    debits: list[tuple[int, str, int]] = field(default_factory=list)  # (user, reference, amount)
    refunded: set[str] = field(default_factory=set)
    keys: dict[tuple[int, str], int] = field(default_factory=dict)
    quota_payments: list[tuple[int, date, int]] = field(default_factory=list)  # (user, day, poses)


class LedgerMachine(RuleBasedStateMachine):
    runner: ClassVar[asyncio.Runner]
    db: ClassVar[Database]

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.user_ids: list[str] = []
        self.now = START

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    async def _load_user(self, index: int) -> User:
        async with self.db.session(write=False) as session:
            user = await session.get(User, self.user_ids[index])
            assert user is not None
            return user

    @initialize()
    def create_users(self) -> None:
        async def create() -> list[str]:
            async with self.db.session() as session:
                users = [
                    User(email=f"{new_id()}@example.com", password_hash="x", name="M") for _ in range(USERS)
                ]
                session.add_all(users)
                await session.flush()
                return [user.id for user in users]

        self.user_ids = self.run(create())

    @rule(
        user=st.integers(0, USERS - 1),
        amount=st.integers(1, 500),
        kind=st.sampled_from([EntryKind.BONUS, EntryKind.PURCHASE, EntryKind.ADMIN_GRANT]),
    )
    def grant(self, user: int, amount: int, kind: EntryKind) -> None:
        async def go() -> None:
            async with self.db.session() as session:
                await ledger.move(
                    session, user_id=self.user_ids[user], amount=amount, kind=kind, reason="grant"
                )

        self.run(go())
        self.model.balances[user] += amount

    @rule(user=st.integers(0, USERS - 1), amount=st.integers(1, 500))
    def debit(self, user: int, amount: int) -> None:
        reference = new_id()

        async def go() -> bool:
            try:
                async with self.db.session() as session:
                    await ledger.debit(
                        session,
                        user_id=self.user_ids[user],
                        amount=amount,
                        reason="debit",
                        reference_type="test",
                        reference_id=reference,
                    )
            except InsufficientCredits:
                return False
            return True

        succeeded = self.run(go())
        assert succeeded == (self.model.balances[user] >= amount)
        if succeeded:
            self.model.balances[user] -= amount
            self.model.debits.append((user, reference, amount))

    @precondition(lambda self: bool(self.model.debits))
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        user, reference, amount = data.draw(st.sampled_from(self.model.debits))

        async def go() -> None:
            async with self.db.session() as session:
                await ledger.refund(
                    session,
                    user_id=self.user_ids[user],
                    amount=amount,
                    reason="refund",
                    reference_type="test",
                    reference_id=reference,
                )

        self.run(go())
        if reference not in self.model.refunded:
            self.model.refunded.add(reference)
            self.model.balances[user] += amount

    @rule(user=st.integers(0, USERS - 1), key=st.sampled_from(["a", "b"]), amount=st.integers(1, 50))
    def keyed_grant(self, user: int, key: str, amount: int) -> None:
        async def go() -> bool:
            try:
                async with self.db.session() as session:
                    await ledger.move(
                        session,
                        user_id=self.user_ids[user],
                        amount=amount,
                        kind=EntryKind.BONUS,
                        reason="keyed",
                        idempotency_key=key,
                    )
            except IdempotencyKeyReused:
                return False
            return True

        accepted = self.run(go())
        earlier = self.model.keys.get((user, key))
        assert accepted == (earlier is None or earlier == amount)
        if earlier is None:
            self.model.keys[(user, key)] = amount
            self.model.balances[user] += amount

    @rule(user=st.integers(0, USERS - 1), amount=st.integers(1, 100))
    def rolled_back(self, user: int, amount: int) -> None:
        async def go() -> None:
            async with self.db.session() as session:
                await ledger.move(
                    session,
                    user_id=self.user_ids[user],
                    amount=amount,
                    kind=EntryKind.BONUS,
                    reason="abandoned",
                )
                raise Rollback

        with pytest.raises(Rollback):
            self.run(go())

    @rule(
        user=st.integers(0, USERS - 1),
        active=st.booleans(),
        quota=st.integers(0, 6),
        expiry=st.sampled_from([None, -1, 1]),
    )
    def set_tier(self, user: int, active: bool, quota: int, expiry: int | None) -> None:
        expires_at = None if expiry is None else self.now + timedelta(hours=expiry)

        async def go() -> None:
            async with self.db.session() as session:
                stored = await session.get(User, self.user_ids[user])
                assert stored is not None
                stored.unlimited_active = active
                stored.unlimited_daily_quota = quota
                stored.unlimited_expires_at = expires_at

        self.run(go())
        self.model.tiers[user] = Tier(active=active, quota=quota, expires_at=expires_at)

    @rule(user=st.integers(0, USERS - 1), poses=st.integers(1, 3))
    def pay(self, user: int, poses: int) -> None:
        reference = new_id()

        async def go() -> service.Payment | str:
            stored = await self._load_user(user)
            try:
                async with self.db.session() as session:
                    return await service.pay(
                        session,
                        stored,
                        poses=poses,
                        credits=poses * COST_PER_POSE,
                        now=self.now,
                        reason="poses",
                        reference_type="test",
                        reference_id=reference,
                    )
            except (InsufficientQuota, InsufficientCredits) as exc:
                return exc.code

        outcome = self.run(go())
        tier = self.model.tiers[user]
        day = self.now.date()
        if tier.active_at(self.now):
            used = self.model.usage.get((user, day), 0)
            if used + poses <= tier.quota:
                assert outcome == service.Payment(credits=0, quota_day=day)
                self.model.usage[(user, day)] = used + poses
                self.model.quota_payments.append((user, day, poses))
            else:
                assert outcome == "INSUFFICIENT_QUOTA"
        elif self.model.balances[user] >= poses * COST_PER_POSE:
            assert outcome == service.Payment(credits=poses * COST_PER_POSE, quota_day=None)
            self.model.balances[user] -= poses * COST_PER_POSE
            self.model.debits.append((user, reference, poses * COST_PER_POSE))
        else:
            assert outcome == "INSUFFICIENT_CREDITS"

    @precondition(lambda self: bool(self.model.quota_payments))
    @rule(data=st.data())
    def give_back(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.model.quota_payments) - 1))
        user, day, poses = self.model.quota_payments.pop(index)

        async def go() -> None:
            async with self.db.session() as session:
                await service.pay_back(
                    session,
                    user_id=self.user_ids[user],
                    payment=service.Payment(credits=0, quota_day=day),
                    poses=poses,
                    reason="failed",
                    reference_type="test",
                    reference_id=new_id(),
                )

        self.run(go())
        self.model.usage[(user, day)] -= poses

    @rule()
    def next_day(self) -> None:
        self.now += timedelta(days=1)

    @invariant()
    def database_agrees_with_model(self) -> None:
        if not self.user_ids:
            return

        async def read() -> tuple[dict[str, int], dict[str, int], dict[tuple[str, date], int], bool]:
            async with self.db.session(write=False) as session:
                balances = {row.user_id: row.balance for row in await session.scalars(select(CreditAccount))}
                sums: dict[str, int] = {}
                for entry in await session.scalars(select(CreditEntry)):
                    sums[entry.user_id] = sums.get(entry.user_id, 0) + entry.amount
                usage = {
                    (row.user_id, row.day): row.used for row in await session.scalars(select(UnlimitedUsage))
                }
            findings = await examine(self.db)
            return balances, sums, usage, all(finding.ok for finding in findings)

        balances, sums, usage, doctor_ok = self.run(read())
        for index, user_id in enumerate(self.user_ids):
            assert balances.get(user_id, 0) == self.model.balances[index] == sums.get(user_id, 0)
            assert self.model.balances[index] >= 0
        expected_usage = {(self.user_ids[u], day): used for (u, day), used in self.model.usage.items()}
        assert {key: used for key, used in usage.items() if key[0] in self.user_ids} == expected_usage
        assert doctor_ok

    def teardown(self) -> None:
        self.run(empty_all_tables(self.db))


def test_money_invariants_hold_for_any_sequence(database_url: str) -> None:
    runner = asyncio.Runner(loop_factory=asyncio.new_event_loop)
    with runner:
        LedgerMachine.runner = runner
        LedgerMachine.db = Database(create_engine(database_url))
        try:
            run_state_machine_as_test(
                LedgerMachine,
                settings=settings(
                    max_examples=20,
                    stateful_step_count=30,
                    deadline=None,
                    suppress_health_check=[HealthCheck.too_slow],
                ),
            )
        finally:
            runner.run(LedgerMachine.db.dispose())
