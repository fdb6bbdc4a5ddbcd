"""SQL for balances, ledger entries and unlimited usage.

Balance changes are single conditional statements: the database, not the
application, decides whether a debit fits, so concurrent debits cannot overdraw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.models import CreditAccount, CreditEntry, EntryKind, UnlimitedUsage
from posegen.kit.orm import upsert
from posegen.kit.pagination import PageRequest, paginate
from posegen.kit.time import utcnow


async def balance(session: AsyncSession, user_id: str) -> int:
    value = await session.scalar(select(CreditAccount.balance).where(CreditAccount.user_id == user_id))
    return int(value or 0)


async def balances(session: AsyncSession, user_ids: list[str]) -> dict[str, int]:
    """Balances of several accounts in one query (0 for accounts never credited)."""
    rows = await session.execute(
        select(CreditAccount.user_id, CreditAccount.balance).where(CreditAccount.user_id.in_(user_ids))
    )
    found = {user_id: int(value) for user_id, value in rows}
    return {user_id: found.get(user_id, 0) for user_id in user_ids}


async def withdraw(session: AsyncSession, user_id: str, amount: int) -> int | None:
    """Take `amount` if the balance covers it; the new balance, or None when it does not."""
    result = await session.execute(
        update(CreditAccount)
        .where(CreditAccount.user_id == user_id, CreditAccount.balance >= amount)
        .values(balance=CreditAccount.balance - amount, updated_at=utcnow())
        .returning(CreditAccount.balance)
    )
    return result.scalar_one_or_none()


async def deposit(session: AsyncSession, user_id: str, amount: int) -> int:
    """Add `amount`, opening the account on its first credit; the new balance."""
    statement = upsert(session, CreditAccount).values(user_id=user_id, balance=amount, updated_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[CreditAccount.user_id],
        set_={"balance": CreditAccount.balance + amount, "updated_at": utcnow()},
    ).returning(CreditAccount.balance)
    return int((await session.execute(statement)).scalar_one())


async def entry_by_idempotency_key(session: AsyncSession, user_id: str, key: str) -> CreditEntry | None:
    return await session.scalar(
        select(CreditEntry).where(CreditEntry.user_id == user_id, CreditEntry.idempotency_key == key)
    )


async def refund_of(session: AsyncSession, reference_type: str, reference_id: str) -> CreditEntry | None:
    return await session.scalar(
        select(CreditEntry).where(
            CreditEntry.kind == EntryKind.REFUND.value,
            CreditEntry.reference_type == reference_type,
            CreditEntry.reference_id == reference_id,
        )
    )


async def refunded_references(
    session: AsyncSession, references: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of these `(reference_type, reference_id)` were refunded already."""
    found: set[tuple[str, str]] = set()
    by_type: dict[str, list[str]] = {}
    for reference_type, reference_id in references:
        by_type.setdefault(reference_type, []).append(reference_id)
    for reference_type, ids in by_type.items():
        rows = await session.execute(
            select(CreditEntry.reference_id).where(
                CreditEntry.kind == EntryKind.REFUND.value,
                CreditEntry.reference_type == reference_type,
                CreditEntry.reference_id.in_(ids),
            )
        )
        found.update((reference_type, str(reference_id)) for (reference_id,) in rows)
    return found


async def history(session: AsyncSession, user_id: str, page: PageRequest) -> tuple[list[CreditEntry], int]:
    query = select(CreditEntry).where(CreditEntry.user_id == user_id)
    return await paginate(session, query, page, CreditEntry.created_at.desc(), CreditEntry.id.desc())


async def use_quota(session: AsyncSession, user_id: str, day: date, poses: int, quota: int) -> int | None:
    """Count `poses` against the day's quota in one statement; the new total, or None if over quota."""
    if poses > quota:
        return None
    statement = upsert(session, UnlimitedUsage).values(user_id=user_id, day=day, used=poses)
    statement = statement.on_conflict_do_update(
        index_elements=[UnlimitedUsage.user_id, UnlimitedUsage.day],
        set_={"used": UnlimitedUsage.used + poses},
        where=UnlimitedUsage.used + poses <= quota,
    ).returning(UnlimitedUsage.used)
    return (await session.execute(statement)).scalar_one_or_none()


async def return_quota(session: AsyncSession, user_id: str, day: date, poses: int) -> int | None:
    """Give `poses` back to the day's quota; the new total, or None if fewer were used."""
    result = await session.execute(
        update(UnlimitedUsage)
        .where(UnlimitedUsage.user_id == user_id, UnlimitedUsage.day == day, UnlimitedUsage.used >= poses)
        .values(used=UnlimitedUsage.used - poses)
        .returning(UnlimitedUsage.used)
    )
    return result.scalar_one_or_none()


async def used_quota(session: AsyncSession, user_id: str, day: date) -> int:
    value = await session.scalar(
        select(UnlimitedUsage.used).where(UnlimitedUsage.user_id == user_id, UnlimitedUsage.day == day)
    )
    return int(value or 0)
