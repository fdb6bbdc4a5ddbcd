"""Paying for work: credits, or the unlimited tier's quota while it is active."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth.models import User
from posegen.credits import ledger, quota
from posegen.credits.ledger import Refund
from posegen.credits.models import EntryKind


@dataclass(frozen=True)
class Payment:
    """How a piece of work was paid: credits taken, or poses counted on a quota day."""

    credits: int
    quota_day: date | None


async def pay(
    session: AsyncSession,
    user: User,
    *,
    poses: int,
    credits: int,
    now: datetime,
    reason: str,
    reference_type: str,
    reference_id: str,
) -> Payment:
    """Charge `poses` of work costing `credits`: quota while the tier is active, else credits.

    An expired or inactive tier falls back to credits. Raises
    `InsufficientQuota` or `InsufficientCredits`; nothing is written then.
    """
    if quota.tier_active(user, now):
        day = quota.utc_day(now)
        await quota.consume(session, user, poses, day)
        return Payment(credits=0, quota_day=day)
    await ledger.debit(
        session,
        user_id=user.id,
        amount=credits,
        kind=EntryKind.USAGE,
        reason=reason,
        reference_type=reference_type,
        reference_id=reference_id,
    )
    return Payment(credits=credits, quota_day=None)


async def pay_back(
    session: AsyncSession,
    *,
    user_id: str,
    payment: Payment,
    poses: int,
    reason: str,
    reference_type: str,
    reference_id: str,
) -> None:
    """Return what `payment` took for `poses` of failed work: quota back, or a credit refund.

    A credit refund's reference is unique, so refunding it twice moves nothing;
    quota carries no reference, so callers give it back under their own
    once-only flag (a pose's `refunded`) in the same transaction.
    """
    if payment.quota_day is not None:
        await quota.give_back(session, user_id, poses, payment.quota_day)
        return
    if payment.credits > 0:
        await ledger.refund(
            session,
            user_id=user_id,
            amount=payment.credits,
            reason=reason,
            reference_type=reference_type,
            reference_id=reference_id,
        )


async def pay_back_many(
    session: AsyncSession,
    *,
    user_id: str,
    quota_day: date | None,
    refunds: Sequence[Refund],
    reason: str,
) -> None:
    """`pay_back` for a set of poses at once: their quota back in one statement, or one credit
    refund per reference (those of amount 0 were free and move nothing)."""
    if quota_day is not None:
        await quota.give_back(session, user_id, len(refunds), quota_day)
        return
    paid = [refund for refund in refunds if refund.amount > 0]
    if paid:
        await ledger.refund_many(session, user_id=user_id, refunds=paid, reason=reason)
