"""SQL of the generation package: generations, their poses, background changes, stored events, and
the library, project and ledger rows a submission or the caller's statistics read.

The services (`service`, `manage`, `backgrounds`, `stats`, `exports`) hold the rules and the
realtime handlers the protocol; these functions only read and write rows and return models or
plain values. A lookup by id with a user id is owner-filtered: another user's row reads as absent
(None), so no caller can forget the check. Nothing here commits; writes flush.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.models import CreditEntry, EntryKind
from posegen.generation.event_kinds import GenerationRequeued
from posegen.generation.locks import lock_project
from posegen.generation.models import (
    BackgroundChange,
    GeneratedPose,
    Generation,
    GenerationEvent,
    GenerationStatus,
    PoseStatus,
)
from posegen.kit.pagination import PageRequest, paginate
from posegen.library import repository as library
from posegen.library.models import Pose
from posegen.projects.models import Project

ACTIVE_GENERATION = (GenerationStatus.QUEUED.value, GenerationStatus.PROCESSING.value)
OPEN_CHANGE = (PoseStatus.QUEUED.value, PoseStatus.RUNNING.value)
RECENT_POSES = 100  # the window of `seconds_per_pose`

# The tables whose rows workers lease (`work/`): they share the lease columns.
Leased = GeneratedPose | BackgroundChange


# Generations


async def owned_generation(session: AsyncSession, user_id: str, generation_id: str) -> Generation | None:
    # `get` answers from the session's identity map when the row is loaded already.
    generation = await session.get(Generation, generation_id)
    return generation if generation is not None and generation.user_id == user_id else None


async def owns_generation(session: AsyncSession, user_id: str, generation_id: str) -> bool:
    """Whether the generation exists and is `user_id`'s (one column read, no row loaded)."""
    owner = await session.scalar(select(Generation.user_id).where(Generation.id == generation_id))
    return owner is not None and owner == user_id


async def generation_by_idempotency_key(session: AsyncSession, user_id: str, key: str) -> Generation | None:
    return await session.scalar(
        select(Generation).where(Generation.user_id == user_id, Generation.idempotency_key == key)
    )


async def search_generations(
    session: AsyncSession,
    user_id: str,
    project_id: str | None,
    status: GenerationStatus | None,
    page: PageRequest,
) -> tuple[list[Generation], int]:
    """A page of the user's generations, newest first, and how many match."""
    query = select(Generation).where(Generation.user_id == user_id)
    if project_id is not None:
        query = query.where(Generation.project_id == project_id)
    if status is not None:
        query = query.where(Generation.status == status.value)
    return await paginate(session, query, page, Generation.created_at.desc(), Generation.id.desc())


async def active_generations(session: AsyncSession, user_id: str) -> list[Generation]:
    """The user's queued and processing generations."""
    rows = await session.scalars(
        select(Generation).where(Generation.user_id == user_id, Generation.status.in_(ACTIVE_GENERATION))
    )
    return list(rows)


async def generation_created_at(session: AsyncSession, generation_id: str) -> datetime | None:
    return await session.scalar(select(Generation.created_at).where(Generation.id == generation_id))


async def add_generation(session: AsyncSession, generation: Generation) -> None:
    """Insert the generation (its id and defaults are set after this)."""
    session.add(generation)
    await session.flush()


async def delete_generation(session: AsyncSession, generation: Generation) -> None:
    """Delete the generation row; its poses, events and background changes go with it (ON DELETE
    CASCADE). The object leaves the session, which must not write it back."""
    await session.execute(
        delete(Generation).where(Generation.id == generation.id).execution_options(synchronize_session=False)
    )
    session.expunge(generation)


# Generated poses


async def owned_pose(session: AsyncSession, user_id: str, pose_id: str) -> GeneratedPose | None:
    pose = await session.get(GeneratedPose, pose_id)
    return pose if pose is not None and pose.user_id == user_id else None


async def poses_of(
    session: AsyncSession, generation_id: str, status: PoseStatus | None = None
) -> list[GeneratedPose]:
    """A generation's poses (of one status when given) in variation order."""
    query = select(GeneratedPose).where(GeneratedPose.generation_id == generation_id)
    if status is not None:
        query = query.where(GeneratedPose.status == status.value)
    return list(await session.scalars(query.order_by(GeneratedPose.variation_index)))


async def add_poses(session: AsyncSession, poses: Iterable[GeneratedPose]) -> None:
    session.add_all(poses)
    await session.flush()


async def set_export_key(session: AsyncSession, pose: GeneratedPose, preset_key: str, key: str) -> str | None:
    """Point the pose's export of `preset_key` at the file `key`; the key it replaced, if any."""
    old = (pose.export_keys or {}).get(preset_key)
    pose.export_keys = {**(pose.export_keys or {}), preset_key: key}
    await session.flush()
    return old


async def seconds_per_pose(session: AsyncSession, engine: str | None = None) -> float | None:
    """Mean render time of the most recent completed poses (of `engine`, when given), or None
    before any."""
    recent = (
        select(GeneratedPose.generation_time_ms)
        .where(
            GeneratedPose.status == PoseStatus.COMPLETED.value,
            GeneratedPose.generation_time_ms.is_not(None),
            *([GeneratedPose.engine == engine] if engine is not None else []),
        )
        .order_by(GeneratedPose.completed_at.desc())
        .limit(RECENT_POSES)
        .subquery()
    )
    average = await session.scalar(select(func.avg(recent.c.generation_time_ms)))
    return float(average) / 1000 if average else None


# Background changes


async def open_background_changes(session: AsyncSession, pose_id: str) -> int:
    """How many background changes of the pose are queued or running."""
    count = await session.scalar(
        select(func.count())
        .select_from(BackgroundChange)
        .where(BackgroundChange.pose_id == pose_id, BackgroundChange.status.in_(OPEN_CHANGE))
    )
    return int(count or 0)


async def add_background_change(session: AsyncSession, change: BackgroundChange) -> None:
    session.add(change)
    await session.flush()


# What a submission reads and counts outside the generation tables


async def project(session: AsyncSession, project_id: str, *, lock: bool) -> Project | None:
    """The project row; `lock` takes it until commit (LOCK ORDER step 2, see locks.py)."""
    return await (lock_project(session, project_id) if lock else session.get(Project, project_id))


async def visible_library_poses(
    session: AsyncSession, user_id: str, category_ids: Collection[str]
) -> list[Pose]:
    """Every library pose the user may use: public or theirs, in a visible category."""
    return list(await session.scalars(select(Pose).where(library.visible_to(user_id, category_ids))))


async def count_completed_uses(session: AsyncSession, generation_id: str) -> None:
    """Add the generation's completed poses not yet counted to their library poses' usage and
    popularity, and mark them counted: each completed pose counts once, whatever rounds of retries
    end the generation again. The caller holds the generation's lock (LOCK ORDER step 3)."""
    result = await session.execute(
        update(GeneratedPose)
        .where(
            GeneratedPose.generation_id == generation_id,
            GeneratedPose.status == PoseStatus.COMPLETED.value,
            GeneratedPose.usage_counted.is_(False),
        )
        .values(usage_counted=True)
        .returning(GeneratedPose.pose_id)
        .execution_options(synchronize_session=False)
    )
    uses = Counter(pose_id for pose_id in result.scalars() if pose_id is not None)
    await _count_pose_uses(session, uses)


async def _count_pose_uses(session: AsyncSession, uses: Mapping[str, int]) -> None:
    """Add each library pose's uses to its usage and popularity counters."""
    # In id order (LOCK ORDER step 6), so two generations that share library poses lock their rows
    # in the same order.
    for pose_id, count in sorted(uses.items()):
        await session.execute(
            update(Pose)
            .where(Pose.id == pose_id)
            .values(usage_count=Pose.usage_count + count, popularity_score=Pose.popularity_score + count)
        )


# The caller's statistics


@dataclass(frozen=True)
class PoseUse:
    """A library pose and how many of the user's generated poses used it."""

    pose_id: str
    name: str
    uses: int
    thumbnail_key: str | None


async def completed_pose_count(session: AsyncSession, user_id: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(GeneratedPose)
        .where(GeneratedPose.user_id == user_id, GeneratedPose.status == PoseStatus.COMPLETED.value)
    )
    return int(count or 0)


async def project_count(session: AsyncSession, user_id: str) -> int:
    count = await session.scalar(select(func.count()).select_from(Project).where(Project.user_id == user_id))
    return int(count or 0)


async def generation_count(session: AsyncSession, user_id: str, since: datetime | None = None) -> int:
    """The user's generations, all or those created at or after `since`."""
    query = select(func.count()).select_from(Generation).where(Generation.user_id == user_id)
    if since is not None:
        query = query.where(Generation.created_at >= since)
    return int(await session.scalar(query) or 0)


async def credits_spent(session: AsyncSession, user_id: str, since: datetime | None = None) -> int:
    """Credits the user spent on work, refunds deducted, all time or since `since`."""
    query = select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
        CreditEntry.user_id == user_id,
        CreditEntry.kind.in_([EntryKind.USAGE.value, EntryKind.REFUND.value]),
    )
    if since is not None:
        query = query.where(CreditEntry.created_at >= since)
    # Usage entries are negative amounts, refunds positive.
    return -int(await session.scalar(query) or 0)


async def most_used_poses(session: AsyncSession, user_id: str, limit: int) -> list[PoseUse]:
    """The library poses the user's completed poses used most (ties by name): a failed or
    cancelled pose made nothing, so it used nothing."""
    uses = func.count(GeneratedPose.id)
    rows = await session.execute(
        select(Pose.id, Pose.name, uses, Pose.thumbnail_key)
        .join(GeneratedPose, GeneratedPose.pose_id == Pose.id)
        .where(GeneratedPose.user_id == user_id, GeneratedPose.status == PoseStatus.COMPLETED.value)
        .group_by(Pose.id, Pose.name, Pose.thumbnail_key)
        .order_by(uses.desc(), Pose.name)
        .limit(limit)
    )
    return [PoseUse(pose_id, name, int(count), key) for pose_id, name, count, key in rows]


# Stored events (what live clients replay)


async def stored_events(
    session: AsyncSession, generation_id: str, after_seq: int, before_seq: int | None = None
) -> list[GenerationEvent]:
    """A generation's events with `after_seq < seq < before_seq` (no upper bound without it), in order."""
    query = select(GenerationEvent).where(
        GenerationEvent.generation_id == generation_id, GenerationEvent.seq > after_seq
    )
    if before_seq is not None:
        query = query.where(GenerationEvent.seq < before_seq)
    return list(await session.scalars(query.order_by(GenerationEvent.seq)))


async def events_since(session: AsyncSession, since: datetime, limit: int) -> list[GenerationEvent]:
    """Every generation's events stored at or after `since`, oldest first, at most `limit`."""
    rows = await session.scalars(
        select(GenerationEvent)
        .where(GenerationEvent.created_at >= since)
        .order_by(GenerationEvent.created_at, GenerationEvent.generation_id, GenerationEvent.seq)
        .limit(limit)
    )
    return list(rows)


# Leases, requeues and the queue as generations see them


def lease_guard(model: type[Leased], row_id: str, worker_id: str) -> ColumnElement[bool]:
    """Every write of a claimed row checks it still holds the claim: a worker whose lease expired
    and was taken over writes nothing."""
    return and_(model.id == row_id, model.lease_owner == worker_id, model.status == PoseStatus.RUNNING.value)


async def requeue_rounds(session: AsyncSession, generation_id: str) -> int:
    """How many times a generation was requeued (its `generation.requeued` events)."""
    value = await session.scalar(
        select(func.count())
        .select_from(GenerationEvent)
        .where(
            GenerationEvent.generation_id == generation_id, GenerationEvent.kind == GenerationRequeued.kind
        )
    )
    return int(value or 0)


async def requeueable(
    session: AsyncSession, generation_id: str, pose_id: str | None = None
) -> list[tuple[str, PoseStatus]]:
    """The failed and cancelled poses of a generation (or that one pose), as (id, status)."""
    query = select(GeneratedPose.id, GeneratedPose.status).where(
        GeneratedPose.generation_id == generation_id,
        GeneratedPose.status.in_([PoseStatus.FAILED.value, PoseStatus.CANCELED.value]),
    )
    if pose_id is not None:
        query = query.where(GeneratedPose.id == pose_id)
    return [(row_id, PoseStatus(status)) for row_id, status in await session.execute(query)]


async def reset_poses(session: AsyncSession, pose_ids: Sequence[str], cost: int, now: datetime) -> None:
    """Queue finished poses again as new work: attempts from zero, a new charge round of `cost`, no
    pose check (the next image gets its own)."""
    await session.execute(
        update(GeneratedPose)
        .where(GeneratedPose.id.in_(pose_ids))
        .values(
            status=PoseStatus.QUEUED.value,
            attempts=0,
            refunded=False,
            charge_round=GeneratedPose.charge_round + 1,
            cost=cost,
            error_code=None,
            error_message=None,
            pose_score=None,
            pose_check=None,
            detected_keypoints=None,
            rerenders=0,
            available_at=now,
            completed_at=None,
            lease_owner=None,
            lease_expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )


async def queue_position(session: AsyncSession, before: datetime) -> int:
    """Poses waiting that were queued before `before` (what a new request waits behind)."""
    value = await session.scalar(
        select(func.count())
        .select_from(GeneratedPose)
        .where(GeneratedPose.status == PoseStatus.QUEUED.value, GeneratedPose.created_at < before)
    )
    return int(value or 0)


async def pose_slugs(session: AsyncSession, pose_ids: Collection[str]) -> dict[str, str]:
    """The library slug of each of these library pose ids that still exists."""
    if not pose_ids:
        return {}
    rows = await session.execute(select(Pose.id, Pose.slug).where(Pose.id.in_(set(pose_ids))))
    return dict(rows.all())
