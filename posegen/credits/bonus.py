"""Credits given, not bought: the sign-up bonus of a self-registered account.

`auth` knows nothing of credits: it runs an "account opened" hook inside the registration's
transaction, and the wiring (posegen/services.py) makes that hook `signup_bonus(amount)`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits import ledger
from posegen.credits.models import EntryKind

# The ledger key of the sign-up bonus: one per account, so a repeat writes nothing.
SIGNUP_BONUS_KEY = "signup-bonus"


async def grant_signup_bonus(session: AsyncSession, user_id: str, amount: int) -> None:
    """The sign-up bonus, once per account (its idempotency key); nothing when `amount` is 0."""
    if amount > 0:
        await ledger.move(
            session,
            user_id=user_id,
            amount=amount,
            kind=EntryKind.BONUS,
            reason="sign-up bonus",
            idempotency_key=SIGNUP_BONUS_KEY,
        )


def signup_bonus(amount: int) -> Callable[[AsyncSession, str], Awaitable[None]]:
    """The hook that credits every self-registered account with `amount` (`credits.signup_bonus`)."""

    async def grant(session: AsyncSession, user_id: str) -> None:
        await grant_signup_bonus(session, user_id, amount)

    return grant
