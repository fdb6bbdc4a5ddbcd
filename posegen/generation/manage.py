"""After submission: listing, detail, cancel, retry, delete — every id checked against its owner."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth.models import User
from posegen.config import PricingSettings
from posegen.credits.service import pay
from posegen.db import after_commit
from posegen.errors import Conflict, NotFound
from posegen.generation import events
from posegen.generation.models import (
    TERMINAL_GENERATION,
    GeneratedPose,
    Generation,
    GenerationStatus,
    PoseStatus,
)
from posegen.generation.pricing import pose_cost
from posegen.kit.pagination import PageRequest, paginate
from posegen.kit.time import utcnow
from posegen.work import outcomes


async def owned(session: AsyncSession, user: User, generation_id: str) -> Generation:
    generation = await session.get(Generation, generation_id)
    if generation is None or generation.user_id != user.id:
        raise NotFound("Generation not found")
    return generation


async def completed_pose(session: AsyncSession, user_id: str, pose_id: str) -> GeneratedPose:
    """A finished pose of this user: `NotFound` for others' ids, `Conflict` until it completed."""
    pose = await session.get(GeneratedPose, pose_id)
    if pose is None or pose.user_id != user_id:
        raise NotFound("Pose not found")
    if pose.status != PoseStatus.COMPLETED.value or pose.image_key is None:
        raise Conflict("The pose has not completed")
    return pose


async def poses_of(
    session: AsyncSession, generation_id: str, status: PoseStatus | None = None
) -> list[GeneratedPose]:
    query = select(GeneratedPose).where(GeneratedPose.generation_id == generation_id)
    if status is not None:
        query = query.where(GeneratedPose.status == status.value)
    return list(await session.scalars(query.order_by(GeneratedPose.variation_index)))


async def search(
    session: AsyncSession,
    user: User,
    project_id: str | None,
    status: GenerationStatus | None,
    page: PageRequest,
) -> tuple[list[Generation], int]:
    query = select(Generation).where(Generation.user_id == user.id)
    if project_id is not None:
        query = query.where(Generation.project_id == project_id)
    if status is not None:
        query = query.where(Generation.status == status.value)
    return await paginate(session, query, page, Generation.created_at.desc(), Generation.id.desc())


async def cancel(
    session: AsyncSession, user: User, generation_id: str, notify: Callable[[], None]
) -> Generation:
    """Queued poses are cancelled and refunded now; running ones stop at their next checkpoint.
    A finished generation is returned unchanged."""
    generation = await owned(session, user, generation_id)
    if GenerationStatus(generation.status) in TERMINAL_GENERATION:
        return generation
    await session.execute(
        update(Generation).where(Generation.id == generation.id).values(cancel_requested=True)
    )
    await session.refresh(generation)
    await outcomes.cancel_queued(session, generation)
    await session.refresh(generation)
    after_commit(session, notify)
    return generation


async def retry_failed(
    session: AsyncSession, pricing: PricingSettings, user: User, generation_id: str, wake: Callable[[], None]
) -> int:
    """Queue the failed poses again, charging their cost again in this transaction; how many."""
    generation = await owned(session, user, generation_id)
    if GenerationStatus(generation.status) not in TERMINAL_GENERATION or generation.cancel_requested:
        raise Conflict("Only a finished, not cancelled generation can be retried")
    failed = await poses_of(session, generation.id, PoseStatus.FAILED)
    if not failed:
        raise Conflict("This generation has no failed poses")
    per_pose = pose_cost(pricing, generation.quality, generation.use_background_changer)
    payment = await pay(
        session,
        user,
        poses=len(failed),
        credits=per_pose * len(failed),
        now=utcnow(),
        reason=f"retry of {len(failed)} failed poses",
        reference_type="generation",
        reference_id=generation.id,
    )
    now = utcnow()
    for pose in failed:
        pose.status = PoseStatus.QUEUED.value
        pose.attempts = 0
        pose.refunded = False
        pose.charge_round += 1
        pose.cost = per_pose if payment.credits else 0
        pose.error_code = None
        pose.error_message = None
        pose.available_at = now
        pose.completed_at = None
    generation.poses_failed -= len(failed)
    generation.credit_charged += payment.credits
    if payment.quota_day is not None:
        generation.quota_day = payment.quota_day
    generation.status = GenerationStatus.QUEUED.value
    generation.completed_at = None
    await session.flush()
    await events.append(session, generation.id, user.id, "generation.queued", {"retried": len(failed)})
    after_commit(session, wake)
    return len(failed)


async def delete(session: AsyncSession, user: User, generation_id: str) -> list[str]:
    """Delete a finished generation; the storage keys of its files, to delete after commit."""
    generation = await owned(session, user, generation_id)
    if GenerationStatus(generation.status) not in TERMINAL_GENERATION:
        raise Conflict("A generation can be deleted once it has finished or been cancelled")
    keys: list[str] = []
    for pose in await poses_of(session, generation.id):
        keys += [key for key in (pose.image_key, pose.thumbnail_key, pose.control_map_key) if key]
        keys += [key for key in (pose.export_keys or {}).values() if key not in keys]
    await session.delete(generation)
    await session.flush()
    return keys
