"""SQL for projects and uploads, and the generation figures a project shows."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.models import Generation, GenerationStatus
from posegen.generation.views import generation_out
from posegen.kit.pagination import PageRequest, paginate
from posegen.projects.models import Project, ProjectStatus, Upload


async def owned_project(
    session: AsyncSession, user_id: str, project_id: str, *, for_update: bool = False
) -> Project | None:
    """The project if `user_id` owns it.

    `for_update` locks the row on PostgreSQL (SQLite's write transactions are
    serialised already), so a check made on it holds until the commit.
    """
    query = select(Project).where(Project.id == project_id, Project.user_id == user_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_projects(
    session: AsyncSession, user_id: str, status: ProjectStatus | None, page: PageRequest
) -> tuple[list[Project], int]:
    """A page of the user's projects, newest first, and how many there are in all."""
    query = select(Project).where(Project.user_id == user_id)
    if status is not None:
        query = query.where(Project.status == status.value)
    return await paginate(session, query, page, Project.created_at.desc(), Project.id.desc())


async def owned_upload(session: AsyncSession, user_id: str, upload_id: str) -> Upload | None:
    return await session.scalar(select(Upload).where(Upload.id == upload_id, Upload.user_id == user_id))


async def upload_keys(session: AsyncSession, upload_ids: Collection[str]) -> dict[str, str]:
    """Storage key of each upload id given (missing ids are left out)."""
    if not upload_ids:
        return {}
    rows = await session.execute(select(Upload.id, Upload.storage_key).where(Upload.id.in_(upload_ids)))
    return {row.id: row.storage_key for row in rows}


async def delete_uploads(session: AsyncSession, upload_ids: Collection[str]) -> list[str]:
    """Delete the upload rows; the storage keys of their files, for the caller to remove after commit."""
    if not upload_ids:
        return []
    rows = await session.scalars(
        delete(Upload).where(Upload.id.in_(upload_ids)).returning(Upload.storage_key)
    )
    return list(rows)


# --- generation figures ---------------------------------------------------------------------
# The generations table does not exist yet. These three are the only places projects
# learn about generations; the generation work fills in their bodies.


async def generation_totals(session: AsyncSession, project_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
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


async def latest_generations(session: AsyncSession, project_id: str, limit: int) -> list[dict[str, Any]]:
    """The project's `limit` most recent generations, newest first, as API summaries."""
    rows = await session.scalars(
        select(Generation)
        .where(Generation.project_id == project_id)
        .order_by(Generation.created_at.desc(), Generation.id.desc())
        .limit(limit)
    )
    return [generation_out(row).model_dump(mode="json") for row in rows]


async def active_generation_count(session: AsyncSession, project_id: str) -> int:
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
