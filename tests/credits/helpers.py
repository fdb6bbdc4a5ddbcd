"""Reading money state straight from the tables, for assertions."""

from __future__ import annotations

from sqlalchemy import func, select

from posegen.audit.models import AuditEntry
from posegen.credits.models import CreditAccount, CreditEntry
from posegen.db import Database


async def balance_of(db: Database, user_id: str) -> int:
    async with db.session(write=False) as session:
        value = await session.scalar(select(CreditAccount.balance).where(CreditAccount.user_id == user_id))
        return int(value or 0)


async def ledger_sum(db: Database, user_id: str) -> int:
    async with db.session(write=False) as session:
        value = await session.scalar(
            select(func.sum(CreditEntry.amount)).where(CreditEntry.user_id == user_id)
        )
        return int(value or 0)


async def entries_of(db: Database, user_id: str) -> list[CreditEntry]:
    async with db.session(write=False) as session:
        rows = await session.scalars(
            select(CreditEntry).where(CreditEntry.user_id == user_id).order_by(CreditEntry.id)
        )
        return list(rows)


async def audit_count(db: Database, user_id: str) -> int:
    async with db.session(write=False) as session:
        value = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.user_id == user_id)
        )
        return int(value or 0)
