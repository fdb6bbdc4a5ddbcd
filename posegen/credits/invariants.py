"""The money invariants of the credits domain, checked over the whole database."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.audit.models import AuditEntry
from posegen.auth.models import User
from posegen.credits.models import CreditAccount, CreditEntry


async def balance_problems(session: AsyncSession) -> list[str]:
    """Every account's balance equals the sum of its ledger and is not negative."""
    sums = (
        select(CreditEntry.user_id, func.sum(CreditEntry.amount).label("total"))
        .group_by(CreditEntry.user_id)
        .subquery()
    )
    balance = func.coalesce(CreditAccount.balance, 0)
    total = func.coalesce(sums.c.total, 0)
    rows = await session.execute(
        select(User.id, User.email, balance, total)
        .outerjoin(CreditAccount, CreditAccount.user_id == User.id)
        .outerjoin(sums, sums.c.user_id == User.id)
        .where((balance != total) | (balance < 0))
        .order_by(User.email)
    )
    return [
        f"balance mismatch: {email} ({user_id}) has balance {bal}, ledger sums to {tot}"
        for user_id, email, bal, tot in rows
    ]


async def unaudited_entries(session: AsyncSession) -> list[str]:
    """Every ledger entry was written together with its audit row."""
    rows = await session.execute(
        select(CreditEntry.id, CreditEntry.user_id)
        .outerjoin(
            AuditEntry,
            and_(AuditEntry.target_type == "credit_entry", AuditEntry.target_id == CreditEntry.id),
        )
        .where(AuditEntry.id.is_(None))
        .order_by(CreditEntry.id)
    )
    return [f"ledger entry {entry_id} of user {user_id} has no audit row" for entry_id, user_id in rows]


CHECKS = {
    "balance equals ledger sum, never negative": balance_problems,
    "every ledger entry audited": unaudited_entries,
}
