"""The generation invariants of DOMAIN.md, for `posegen doctor`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.models import CreditEntry
from posegen.generation.models import TERMINAL_GENERATION, GeneratedPose, Generation, PoseStatus
from posegen.generation.pricing import CHARGE_REFERENCE, POSE_REFERENCE
from posegen.kit.ids import ID_LENGTH


async def charge_problems(session: AsyncSession) -> list[str]:
    """credit_charged − credit_refunded equals the cost of the poses not refunded."""
    kept = func.coalesce(func.sum(case((GeneratedPose.refunded.is_(False), GeneratedPose.cost), else_=0)), 0)
    rows = await session.execute(
        select(Generation.id, Generation.credit_charged, Generation.credit_refunded, kept)
        .outerjoin(GeneratedPose, GeneratedPose.generation_id == Generation.id)
        .group_by(Generation.id, Generation.credit_charged, Generation.credit_refunded)
        .having(Generation.credit_charged - Generation.credit_refunded != kept)
    )
    return [
        f"generation {gid}: charged {charged} − refunded {refunded} ≠ {cost} kept by its poses"
        for gid, charged, refunded, cost in rows
    ]


async def ledger_problems(session: AsyncSession) -> list[str]:
    """The ledger entries that reference a generation — its charges and retries, and the refunds
    of its poses — sum to −(credit_charged − credit_refunded): what the generation says it kept."""
    charges = select(
        CreditEntry.reference_id.label("generation_id"), CreditEntry.amount.label("amount")
    ).where(CreditEntry.reference_type == CHARGE_REFERENCE)
    # A pose's refund reference starts with the pose id (`#r<round>` follows for retry rounds).
    refunds = (
        select(GeneratedPose.generation_id.label("generation_id"), CreditEntry.amount.label("amount"))
        .select_from(CreditEntry)
        .join(GeneratedPose, GeneratedPose.id == func.substr(CreditEntry.reference_id, 1, ID_LENGTH))
        .where(CreditEntry.reference_type == POSE_REFERENCE)
    )
    moved = union_all(charges, refunds).subquery()
    sums = (
        select(moved.c.generation_id, func.sum(moved.c.amount).label("total"))
        .group_by(moved.c.generation_id)
        .subquery()
    )
    total = func.coalesce(sums.c.total, 0)
    rows = await session.execute(
        select(Generation.id, Generation.credit_charged, Generation.credit_refunded, total)
        .outerjoin(sums, sums.c.generation_id == Generation.id)
        .where(total != Generation.credit_refunded - Generation.credit_charged)
        .order_by(Generation.id)
    )
    return [
        f"generation {gid}: its ledger entries sum to {moved_total}, but it says charged {charged}, "
        f"refunded {refunded} (net {refunded - charged})"
        for gid, charged, refunded, moved_total in rows
    ]


async def counter_problems(session: AsyncSession) -> list[str]:
    """A terminal generation's counters equal the counts of its poses by status."""

    def count(status: PoseStatus) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((GeneratedPose.status == status.value, 1), else_=0)), 0)

    completed, failed, canceled = (
        count(s) for s in (PoseStatus.COMPLETED, PoseStatus.FAILED, PoseStatus.CANCELED)
    )
    rows = await session.execute(
        select(
            Generation.id,
            Generation.poses_completed,
            Generation.poses_failed,
            Generation.poses_canceled,
            completed,
            failed,
            canceled,
        )
        .join(GeneratedPose, GeneratedPose.generation_id == Generation.id)
        .where(Generation.status.in_([status.value for status in TERMINAL_GENERATION]))
        .group_by(
            Generation.id, Generation.poses_completed, Generation.poses_failed, Generation.poses_canceled
        )
    )
    return [
        f"generation {gid}: counters {c}/{f}/{x} but poses {rc}/{rf}/{rx} (completed/failed/canceled)"
        for gid, c, f, x, rc, rf, rx in rows
        if (c, f, x) != (rc, rf, rx)
    ]


async def duplicate_completions(session: AsyncSession) -> list[str]:
    """No two completed poses share (generation, variation key)."""
    rows = await session.execute(
        select(GeneratedPose.generation_id, GeneratedPose.variation_key, func.count())
        .where(GeneratedPose.status == PoseStatus.COMPLETED.value)
        .group_by(GeneratedPose.generation_id, GeneratedPose.variation_key)
        .having(func.count() > 1)
    )
    return [f"generation {gid}: variation {key} completed {n} times" for gid, key, n in rows]


CHECKS = {
    "generation charges match their poses": charge_problems,
    "generation charges match the ledger": ledger_problems,
    "finished generations' counters match their poses": counter_problems,
    "no variation completed twice": duplicate_completions,
}
