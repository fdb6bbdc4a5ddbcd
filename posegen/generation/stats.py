"""The caller's usage statistics (`GET /stats`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation import repository as generations
from posegen.generation.schemas import CreditUsage, TopUsedPose, UserStats
from posegen.kit.time import utcnow
from posegen.storage.base import Storage

RECENT = timedelta(days=7)  # "recentGenerations"
SPENDING_WINDOW = timedelta(days=30)  # "creditUsage.last30Days"
TOP_POSES = 5


async def user_stats(session: AsyncSession, storage: Storage, user_id: str) -> UserStats:
    now = utcnow()
    generations_made = await generations.generation_count(session, user_id)
    total_spent = await generations.credits_spent(session, user_id)
    return UserStats(
        total_poses_generated=await generations.completed_pose_count(session, user_id),
        total_projects=await generations.project_count(session, user_id),
        recent_generations=await generations.generation_count(session, user_id, since=now - RECENT),
        credit_usage=CreditUsage(
            total_spent=total_spent,
            last30_days=await generations.credits_spent(session, user_id, since=now - SPENDING_WINDOW),
            average_per_generation=round(total_spent / generations_made, 2) if generations_made else 0.0,
        ),
        top_used_poses=[
            TopUsedPose(
                pose_id=use.pose_id,
                pose_name=use.name,
                usage_count=use.uses,
                preview_url=storage.url(use.thumbnail_key) if use.thumbnail_key else None,
            )
            for use in await generations.most_used_poses(session, user_id, TOP_POSES)
        ],
    )
