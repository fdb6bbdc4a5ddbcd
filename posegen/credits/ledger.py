"""The ledger: the one place a balance changes.

`move()` applies a signed amount with a single conditional statement, appends
its ledger entry with `balance_after`, and writes an audit row — all in the
caller's transaction, so they commit or vanish together. Refunds carry a
unique reference and entries may carry an idempotency key: repeating either
returns the first entry and moves nothing. `refund_many()` is its set-based
form for bulk state changes (a cancel of hundreds of poses): the same entries
and audit rows, written in a few statements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.audit import service as audit
from posegen.credits import repository
from posegen.credits.errors import InsufficientCredits
from posegen.credits.models import CREDIT_KINDS, DEBIT_KINDS, CreditEntry, EntryKind
from posegen.db import after_commit
from posegen.errors import IdempotencyKeyReused
from posegen.kit.ids import new_id
from posegen.observability.prometheus import PROCESS as METRICS

MAX_AMOUNT = 1_000_000


async def move(
    session: AsyncSession,
    *,
    user_id: str,
    amount: int,
    kind: EntryKind,
    reason: str,
    actor_id: str | None = None,
    reference_type: str | None = None,
    reference_id: str | None = None,
    idempotency_key: str | None = None,
) -> CreditEntry:
    """Apply `amount` (negative for debits) to the user's balance and record it.

    Raises `InsufficientCredits` when a debit does not fit; nothing is written then.
    """
    _check(amount, kind, reference_type, reference_id)
    earlier = await _earlier_entry(
        session, user_id, amount, kind, reference_type, reference_id, idempotency_key
    )
    if earlier is not None:
        return earlier
    try:
        # The savepoint undoes the balance change if the entry cannot be written
        # (a concurrent transaction recorded the same refund or key first).
        async with session.begin_nested():
            if amount < 0:
                balance = await repository.withdraw(session, user_id, -amount)
                if balance is None:
                    available = await repository.balance(session, user_id)
                    raise InsufficientCredits(required=-amount, available=available)
            else:
                balance = await repository.deposit(session, user_id, amount)
            entry = CreditEntry(
                user_id=user_id,
                amount=amount,
                balance_after=balance,
                kind=kind.value,
                reason=reason,
                reference_type=reference_type,
                reference_id=reference_id,
                idempotency_key=idempotency_key,
            )
            session.add(entry)
            await session.flush()
            await audit.record(
                session,
                action=f"credits.{kind.value}",
                target_type="credit_entry",
                target_id=entry.id,
                actor_id=actor_id,
                user_id=user_id,
                before={"balance": balance - amount},
                after={"balance": balance, "amount": amount, "reason": reason},
            )
    except IntegrityError:
        earlier = await _earlier_entry(
            session, user_id, amount, kind, reference_type, reference_id, idempotency_key
        )
        if earlier is None:
            raise
        return earlier
    # Counted once the movement is committed (never for a repeat, which moved nothing).
    if kind is EntryKind.USAGE:
        after_commit(session, lambda: METRICS.credits_moved(charged=-amount))
    elif kind is EntryKind.REFUND:
        after_commit(session, lambda: METRICS.credits_moved(refunded=amount))
    return entry


async def debit(
    session: AsyncSession,
    *,
    user_id: str,
    amount: int,
    kind: EntryKind = EntryKind.USAGE,
    reason: str,
    actor_id: str | None = None,
    reference_type: str | None = None,
    reference_id: str | None = None,
    idempotency_key: str | None = None,
) -> CreditEntry:
    """Take `amount` (> 0) credits."""
    return await move(
        session,
        user_id=user_id,
        amount=-amount,
        kind=kind,
        reason=reason,
        actor_id=actor_id,
        reference_type=reference_type,
        reference_id=reference_id,
        idempotency_key=idempotency_key,
    )


async def refund(
    session: AsyncSession,
    *,
    user_id: str,
    amount: int,
    reason: str,
    reference_type: str,
    reference_id: str,
    actor_id: str | None = None,
) -> CreditEntry:
    """Give back `amount` (> 0) for one reference; a second refund of it returns the first."""
    return await move(
        session,
        user_id=user_id,
        amount=amount,
        kind=EntryKind.REFUND,
        reason=reason,
        actor_id=actor_id,
        reference_type=reference_type,
        reference_id=reference_id,
    )


@dataclass(frozen=True)
class Refund:
    """One reference to refund in `refund_many`."""

    reference_type: str
    reference_id: str
    amount: int


async def refund_many(
    session: AsyncSession,
    *,
    user_id: str,
    refunds: Sequence[Refund],
    reason: str,
    actor_id: str | None = None,
) -> list[CreditEntry]:
    """The set-based form of `refund`: one entry and audit row per reference, as `move()` writes them,
    but one balance update for their total and the rows inserted together.

    References refunded before are skipped (the same once-only rule as `refund`). The caller holds
    the rows that own the references (e.g. the poses, updated in its transaction), so no concurrent
    refund of them can slip in between the check and the insert.
    """
    for item in refunds:
        _check(item.amount, EntryKind.REFUND, item.reference_type, item.reference_id)
    done = await repository.refunded_references(
        session, [(r.reference_type, r.reference_id) for r in refunds]
    )
    todo = [r for r in refunds if (r.reference_type, r.reference_id) not in done]
    if not todo:
        return []
    balance = await repository.deposit(session, user_id, sum(item.amount for item in todo))
    running = balance - sum(item.amount for item in todo)
    entries: list[CreditEntry] = []
    for item in todo:
        running += item.amount
        entries.append(
            CreditEntry(
                id=new_id(),
                user_id=user_id,
                amount=item.amount,
                balance_after=running,
                kind=EntryKind.REFUND.value,
                reason=reason,
                reference_type=item.reference_type,
                reference_id=item.reference_id,
            )
        )
    session.add_all(entries)
    await session.flush()
    total = sum(item.amount for item in todo)
    after_commit(session, lambda: METRICS.credits_moved(refunded=total))
    await audit.record_many(
        session,
        action=f"credits.{EntryKind.REFUND.value}",
        target_type="credit_entry",
        actor_id=actor_id,
        user_id=user_id,
        changes=[
            (
                entry.id,
                {"balance": entry.balance_after - entry.amount},
                {"balance": entry.balance_after, "amount": entry.amount, "reason": reason},
            )
            for entry in entries
        ],
    )
    return entries


def _check(amount: int, kind: EntryKind, reference_type: str | None, reference_id: str | None) -> None:
    # Programming errors, not client errors: endpoints validate amounts before calling.
    if amount == 0 or abs(amount) > MAX_AMOUNT:
        raise ValueError(f"ledger amount out of range: {amount}")
    if amount > 0 and kind not in CREDIT_KINDS:
        raise ValueError(f"{kind} cannot add credits")
    if amount < 0 and kind not in DEBIT_KINDS:
        raise ValueError(f"{kind} cannot take credits")
    if kind is EntryKind.REFUND and (reference_type is None or reference_id is None):
        raise ValueError("a refund needs the reference it refunds")


async def _earlier_entry(
    session: AsyncSession,
    user_id: str,
    amount: int,
    kind: EntryKind,
    reference_type: str | None,
    reference_id: str | None,
    idempotency_key: str | None,
) -> CreditEntry | None:
    """The entry an earlier call with the same refund reference or idempotency key wrote."""
    if idempotency_key is not None:
        entry = await repository.entry_by_idempotency_key(session, user_id, idempotency_key)
        if entry is not None:
            if entry.amount != amount or entry.kind != kind.value:
                raise IdempotencyKeyReused("This idempotency key was used for a different movement")
            return entry
    if kind is EntryKind.REFUND and reference_type is not None and reference_id is not None:
        entry = await repository.refund_of(session, reference_type, reference_id)
        if entry is not None:
            return entry
    return None
