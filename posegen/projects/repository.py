"""SQL for projects and uploads (the generation figures a project shows are generation's: see
`ProjectGenerations` in projects/service.py)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

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
