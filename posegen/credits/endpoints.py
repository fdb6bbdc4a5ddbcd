"""`/api/credits`: the caller's balance and ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from posegen.auth.dependencies import CurrentUser
from posegen.credits import quota, repository
from posegen.credits.schemas import BalanceOut, EntryOut, HistoryOut, UnlimitedStatus
from posegen.db import Session, UnitOfWorkRoute
from posegen.kit.pagination import PageRequest, page_params
from posegen.kit.time import utcnow

router = APIRouter(prefix="/api/credits", tags=["credits"], route_class=UnitOfWorkRoute)


@router.get("/balance")
async def balance(user: CurrentUser, session: Session) -> BalanceOut:
    """The balance, and the unlimited tier with today's (UTC) usage when the account has one."""
    unlimited = None
    if user.unlimited_active:
        now = utcnow()
        unlimited = UnlimitedStatus(
            active=quota.tier_active(user, now),
            daily_quota=user.unlimited_daily_quota,
            used_today=await repository.used_quota(session, user.id, quota.utc_day(now)),
            expires_at=user.unlimited_expires_at,
        )
    return BalanceOut(balance=await repository.balance(session, user.id), unlimited=unlimited)


@router.get("/history")
async def history(
    user: CurrentUser, session: Session, page: Annotated[PageRequest, Depends(page_params(20))]
) -> HistoryOut:
    """Ledger entries of the caller, newest first."""
    rows, total = await repository.history(session, user.id, page)
    return HistoryOut(entries=[EntryOut.of(entry) for entry in rows], pagination=page.result(total))
