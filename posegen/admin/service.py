"""Admin actions on accounts; each writes an audit row in the same transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.admin.schemas import AdminUserOut, CreditAdjustment, UnlimitedTier, UserUpdate
from posegen.audit import service as audit
from posegen.auth import repository as users
from posegen.auth.models import Role, User
from posegen.credits import ledger
from posegen.credits import repository as credits
from posegen.credits.models import CreditEntry, EntryKind
from posegen.errors import Conflict, NotFound


async def get_user(session: AsyncSession, user_id: str) -> User:
    user = await users.get(session, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


async def views(session: AsyncSession, accounts: list[User]) -> list[AdminUserOut]:
    """Admin views of several accounts, their balances read in one query."""
    balances = await credits.balances(session, [user.id for user in accounts])
    return [_view(user, balances[user.id]) for user in accounts]


async def view(session: AsyncSession, user: User) -> AdminUserOut:
    return _view(user, await credits.balance(session, user.id))


def _view(user: User, balance: int) -> AdminUserOut:
    return AdminUserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        created_at=user.created_at,
        updated_at=user.updated_at,
        is_active=user.is_active,
        balance=balance,
        unlimited=UnlimitedTier(
            active=user.unlimited_active,
            daily_quota=user.unlimited_daily_quota,
            expires_at=user.unlimited_expires_at,
        ),
    )


def _snapshot(user: User) -> dict[str, Any]:
    expires = user.unlimited_expires_at
    return {
        "role": user.role,
        "isActive": user.is_active,
        "unlimited": {
            "active": user.unlimited_active,
            "dailyQuota": user.unlimited_daily_quota,
            "expiresAt": expires.isoformat() if expires else None,
        },
    }


async def update_user(session: AsyncSession, admin: User, user_id: str, change: UserUpdate) -> User:
    """Change role, active flag or unlimited tier. An admin cannot lock themself out."""
    user = await get_user(session, user_id)
    if user.id == admin.id and (change.role is Role.USER or change.is_active is False):
        raise Conflict("Administrators cannot demote or disable their own account")
    before = _snapshot(user)
    if change.role is not None:
        user.role = change.role.value
    if change.is_active is not None:
        user.is_active = change.is_active
    if change.unlimited is not None:
        user.unlimited_active = change.unlimited.active
        user.unlimited_daily_quota = change.unlimited.daily_quota
        user.unlimited_expires_at = change.unlimited.expires_at
    await session.flush()
    await audit.record(
        session,
        action="user.update",
        target_type="user",
        target_id=user.id,
        actor_id=admin.id,
        user_id=user.id,
        before=before,
        after=_snapshot(user),
    )
    return user


async def adjust_credits(
    session: AsyncSession,
    admin: User,
    user_id: str,
    adjustment: CreditAdjustment,
    idempotency_key: str | None,
) -> CreditEntry:
    """Grant (amount > 0) or take (amount < 0) credits; a debit below zero is refused."""
    user = await get_user(session, user_id)
    kind = EntryKind.ADMIN_GRANT if adjustment.amount > 0 else EntryKind.ADMIN_DEBIT
    return await ledger.move(
        session,
        user_id=user.id,
        amount=adjustment.amount,
        kind=kind,
        reason=adjustment.reason,
        actor_id=admin.id,
        idempotency_key=idempotency_key,
    )
