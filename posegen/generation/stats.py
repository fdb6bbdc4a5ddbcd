"""Measured throughput and the caller's usage statistics."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.models import CreditEntry, EntryKind
from posegen.generation.models import GeneratedPose, Generation, PoseStatus
from posegen.generation.schemas import CreditUsage, TopUsedPose, UserStats
from posegen.kit.time import utcnow
from posegen.library.models import Pose
from posegen.projects.models import Project
from posegen.storage.base import Storage


async def seconds_per_pose(session: AsyncSession) -> float | None:
    """Mean render time of the 100 most recent completed poses, or None before any."""
    recent = (
        select(GeneratedPose.generation_time_ms)
        .where(
            GeneratedPose.status == PoseStatus.COMPLETED.value, GeneratedPose.generation_time_ms.is_not(None)
        )
        .order_by(GeneratedPose.completed_at.desc())
        .limit(100)
        .subquery()
    )
    average = await session.scalar(select(func.avg(recent.c.generation_time_ms)))
    return float(average) / 1000 if average else None


async def user_stats(session: AsyncSession, storage: Storage, user_id: str) -> UserStats:
    now = utcnow()
    completed = await session.scalar(
        select(func.count())
        .select_from(GeneratedPose)
        .where(GeneratedPose.user_id == user_id, GeneratedPose.status == PoseStatus.COMPLETED.value)
    )
    projects = await session.scalar(
        select(func.count()).select_from(Project).where(Project.user_id == user_id)
    )
    recent = await session.scalar(
        select(func.count())
        .select_from(Generation)
        .where(Generation.user_id == user_id, Generation.created_at >= now - timedelta(days=7))
    )
    generations = await session.scalar(
        select(func.count()).select_from(Generation).where(Generation.user_id == user_id)
    )

    async def spent(since: timedelta | None) -> int:
        query = select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
            CreditEntry.user_id == user_id,
            CreditEntry.kind.in_([EntryKind.USAGE.value, EntryKind.REFUND.value]),
        )
        if since is not None:
            query = query.where(CreditEntry.created_at >= now - since)
        return -int(await session.scalar(query) or 0)

    total_spent = await spent(None)
    top = await session.execute(
        select(Pose.id, Pose.name, func.count(GeneratedPose.id).label("uses"), Pose.thumbnail_key)
        .join(GeneratedPose, GeneratedPose.pose_id == Pose.id)
        .where(GeneratedPose.user_id == user_id)
        .group_by(Pose.id, Pose.name, Pose.thumbnail_key)
        .order_by(func.count(GeneratedPose.id).desc(), Pose.name)
        .limit(5)
    )
    return UserStats(
        total_poses_generated=int(completed or 0),
        total_projects=int(projects or 0),
        recent_generations=int(recent or 0),
        credit_usage=CreditUsage(
            total_spent=total_spent,
            last30_days=await spent(timedelta(days=30)),
            average_per_generation=round(total_spent / generations, 2) if generations else 0.0,
        ),
        top_used_poses=[
            TopUsedPose(
                pose_id=pose_id,
                pose_name=name,
                usage_count=int(uses),
                preview_url=storage.url(key) if key else None,
            )
            for pose_id, name, uses, key in top
        ],
    )
