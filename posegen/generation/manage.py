"""After submission: listing, detail, cancel, retry, delete — every id checked against its owner."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth.models import User
from posegen.config import PricingSettings
from posegen.credits.service import pay
from posegen.db import after_commit
from posegen.errors import Conflict, NotFound
from posegen.generation import outcomes
from posegen.generation import repository as generations
from posegen.generation.locks import lock_generation, lock_project
from posegen.generation.models import (
    TERMINAL_GENERATION,
    GeneratedPose,
    Generation,
    GenerationStatus,
    PoseStatus,
)
from posegen.generation.pricing import CHARGE_REFERENCE, pose_cost
from posegen.generation.requeue import requeue
from posegen.kit import wording
from posegen.kit.pagination import PageRequest
from posegen.kit.time import utcnow


async def owned(session: AsyncSession, user: User, generation_id: str) -> Generation:
    generation = await generations.owned_generation(session, user.id, generation_id)
    if generation is None:
        raise NotFound("Generation not found")
    return generation


async def completed_pose(session: AsyncSession, user_id: str, pose_id: str) -> GeneratedPose:
    """A finished pose of this user: `NotFound` for others' ids, `Conflict` until it completed."""
    pose = await generations.owned_pose(session, user_id, pose_id)
    if pose is None:
        raise NotFound("Pose not found")
    if pose.status != PoseStatus.COMPLETED.value or pose.image_key is None:
        raise Conflict("The pose has not completed")
    return pose


async def search(
    session: AsyncSession,
    user: User,
    project_id: str | None,
    status: GenerationStatus | None,
    page: PageRequest,
) -> tuple[list[Generation], int]:
    return await generations.search_generations(session, user.id, project_id, status, page)


async def _locked(session: AsyncSession, user: User, generation_id: str) -> Generation:
    """The caller's generation, locked (LOCK ORDER step 3): what is decided from it holds until commit."""
    generation = await lock_generation(session, generation_id)
    if generation is None or generation.user_id != user.id:
        raise NotFound("Generation not found")
    return generation


async def cancel(
    session: AsyncSession, user: User, generation_id: str, notify: Callable[[], None]
) -> Generation:
    """Queued poses are cancelled and refunded now, set-based; running ones stop at their next
    checkpoint (within about a second: their lease renewal watches the flag). A finished
    generation is returned unchanged."""
    generation = await _locked(session, user, generation_id)
    if GenerationStatus(generation.status) in TERMINAL_GENERATION:
        return generation
    generation.cancel_requested = True
    await session.flush()
    await outcomes.cancel_queued(session, generation)
    await session.refresh(generation)
    after_commit(session, notify)
    return generation


async def retry_failed(
    session: AsyncSession, pricing: PricingSettings, user: User, generation_id: str, wake: Callable[[], None]
) -> int:
    """Queue the failed and cancelled poses of a finished generation again, charging their cost again
    in this transaction; how many. A cancelled generation resumes this way. The reset is the admin
    requeue's too (`generation/requeue.py`).

    Locks the project, then the generation (LOCK ORDER): of concurrent retries exactly one finds the
    generation finished; the others find it queued again and get 409. A project delete waiting
    behind it sees the generation active.
    """
    found = await owned(session, user, generation_id)
    await lock_project(session, found.project_id)
    generation = await _locked(session, user, generation_id)
    if GenerationStatus(generation.status) not in TERMINAL_GENERATION:
        raise Conflict("Only a finished generation can be retried")
    poses = await generations.requeueable(session, generation.id)
    if not poses:
        raise Conflict("This generation has no failed or cancelled poses")
    total = len(poses)
    per_pose = pose_cost(pricing, generation.quality, generation.use_background_changer)
    payment = await pay(
        session,
        user,
        poses=total,
        credits=per_pose * total,
        now=utcnow(),
        reason=f"retry of {wording.count(total, 'failed or cancelled pose')}",
        reference_type=CHARGE_REFERENCE,
        reference_id=generation.id,
    )
    await requeue(session, generation, poses, cost=per_pose if payment.credits else 0, payment=payment)
    after_commit(session, wake)
    return total


async def delete(session: AsyncSession, user: User, generation_id: str) -> list[str]:
    """Delete a finished generation; the storage keys of its files, to delete after commit."""
    generation = await _locked(session, user, generation_id)
    if GenerationStatus(generation.status) not in TERMINAL_GENERATION:
        raise Conflict("A generation can be deleted once it has finished or been cancelled")
    keys: list[str] = []
    for pose in await generations.poses_of(session, generation.id):
        keys += [key for key in (pose.image_key, pose.thumbnail_key, pose.control_map_key) if key]
        keys += [key for key in (pose.export_keys or {}).values() if key not in keys]
    await generations.delete_generation(session, generation)
    return keys
