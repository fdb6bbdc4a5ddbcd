"""The caller's usage statistics (`GET /stats`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation import repository as generations
from posegen.kit.time import utcnow
from posegen.storage.base import Storage

RECENT = timedelta(days=7)  # "recentGenerations"
SPENDING_WINDOW = timedelta(days=30)  # "creditUsage.last30Days"
TOP_POSES = 5


async def user_stats(session: AsyncSession, storage: Storage, user_id: str) -> dict[str, object]:
    now = utcnow()
    generations_made = await generations.generation_count(session, user_id)
    total_spent = await generations.credits_spent(session, user_id)
    return {
        "totalPosesGenerated": await generations.completed_pose_count(session, user_id),
        "totalProjects": await generations.project_count(session, user_id),
        "recentGenerations": await generations.generation_count(session, user_id, since=now - RECENT),
        "creditUsage": {
            "totalSpent": total_spent,
            "last30Days": await generations.credits_spent(session, user_id, since=now - SPENDING_WINDOW),
            "averagePerGeneration": round(total_spent / generations_made, 2) if generations_made else 0,
        },
        "topUsedPoses": [
            {
                "poseId": use.pose_id,
                "poseName": use.name,
                "usageCount": use.uses,
                "previewUrl": storage.url(use.thumbnail_key) if use.thumbnail_key else None,
            }
            for use in await generations.most_used_poses(session, user_id, TOP_POSES)
        ],
    }
