"""What a project shows and checks of its generations (the `ProjectGenerations` of projects/service.py).

Projects know nothing of generations: the wiring (posegen/services.py) hands `PROJECT_GENERATIONS`
to them, so the import goes one way, from generation to projects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.models import Generation, GenerationStatus
from posegen.generation.views import generation_out
from posegen.projects.service import ProjectGenerations


async def totals(session: AsyncSession, project_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
    """`(total generations, total poses generated)` for each project id given, in one grouped query."""
    rows = await session.execute(
        select(
            Generation.project_id,
            func.count(Generation.id),
            func.coalesce(func.sum(Generation.poses_completed), 0),
        )
        .where(Generation.project_id.in_(project_ids))
        .group_by(Generation.project_id)
    )
    totals = {project_id: (int(count), int(poses)) for project_id, count, poses in rows}
    return {project_id: totals.get(project_id, (0, 0)) for project_id in project_ids}


async def latest(session: AsyncSession, project_id: str, limit: int) -> list[dict[str, Any]]:
    """The project's `limit` most recent generations, newest first, as API summaries."""
    rows = await session.scalars(
        select(Generation)
        .where(Generation.project_id == project_id)
        .order_by(Generation.created_at.desc(), Generation.id.desc())
        .limit(limit)
    )
    return [generation_out(row).model_dump(mode="json") for row in rows]


async def active_count(session: AsyncSession, project_id: str) -> int:
    """How many of the project's generations are queued or processing (a delete must wait for them)."""
    value = await session.scalar(
        select(func.count())
        .select_from(Generation)
        .where(
            Generation.project_id == project_id,
            Generation.status.in_([GenerationStatus.QUEUED.value, GenerationStatus.PROCESSING.value]),
        )
    )
    return int(value or 0)


PROJECT_GENERATIONS = ProjectGenerations(totals=totals, latest=latest, active_count=active_count)
