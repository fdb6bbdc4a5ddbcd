"""Project rules: ownership, changes, deletion, the avatar image, and the API views."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.errors import Conflict, NotFound
from posegen.kit.pagination import PageRequest
from posegen.projects import repository, uploads
from posegen.projects.models import Project, ProjectStatus
from posegen.projects.schemas import (
    AvatarAttributes,
    ProjectCreate,
    ProjectDetail,
    ProjectList,
    ProjectOut,
    ProjectUpdate,
)
from posegen.storage.base import Storage

LATEST_GENERATIONS = 10


@dataclass(frozen=True)
class ProjectGenerations:
    """What a project shows and checks of its generations. The generation package answers it
    (generation/project_figures.py) and the wiring hands it over (posegen/services.py), so this
    package, which generations build on, imports nothing of theirs."""

    # `(total generations, total poses generated)` for each project id given, in one query.
    totals: Callable[[AsyncSession, Sequence[str]], Awaitable[dict[str, tuple[int, int]]]]
    # The project's `limit` most recent generations, newest first, as API summaries.
    latest: Callable[[AsyncSession, str, int], Awaitable[list[dict[str, Any]]]]
    # How many of the project's generations are queued or processing.
    active_count: Callable[[AsyncSession, str], Awaitable[int]]


async def owned(session: AsyncSession, user_id: str, project_id: str, *, for_update: bool = False) -> Project:
    """The caller's project; `NotFound` for a missing id and for someone else's (never revealing which)."""
    project = await repository.owned_project(session, user_id, project_id, for_update=for_update)
    if project is None:
        raise NotFound("Project not found")
    return project


async def views(
    session: AsyncSession, storage: Storage, generations: ProjectGenerations, projects: Sequence[Project]
) -> list[ProjectOut]:
    """API views of the projects: generation totals and avatar URLs in one query each."""
    totals = await generations.totals(session, [project.id for project in projects])
    avatar_ids = {project.avatar_upload_id for project in projects if project.avatar_upload_id}
    keys = await repository.upload_keys(session, avatar_ids)
    views: list[ProjectOut] = []
    for project in projects:
        generation_count, poses = totals.get(project.id, (0, 0))
        key = keys.get(project.avatar_upload_id) if project.avatar_upload_id else None
        views.append(
            ProjectOut(
                id=project.id,
                project_name=project.name,
                description=project.description,
                status=ProjectStatus(project.status),
                avatar_attributes=AvatarAttributes.model_validate(project.avatar_attributes),
                avatar_url=storage.url(key) if key else None,
                total_generations=generation_count,
                total_poses_generated=poses,
                created_at=project.created_at,
                updated_at=project.updated_at,
            )
        )
    return views


async def view(
    session: AsyncSession, storage: Storage, generations: ProjectGenerations, project: Project
) -> ProjectOut:
    (one,) = await views(session, storage, generations, [project])
    return one


async def list_projects(
    session: AsyncSession,
    storage: Storage,
    generations: ProjectGenerations,
    user_id: str,
    status: ProjectStatus | None,
    page: PageRequest,
) -> ProjectList:
    projects, total = await repository.list_projects(session, user_id, status, page)
    return ProjectList(
        projects=await views(session, storage, generations, projects), pagination=page.result(total)
    )


async def create(
    session: AsyncSession,
    storage: Storage,
    generations: ProjectGenerations,
    user_id: str,
    body: ProjectCreate,
) -> ProjectOut:
    project = Project(
        user_id=user_id,
        name=body.project_name,
        description=body.description,
        avatar_attributes=body.avatar_attributes.stored() if body.avatar_attributes else {},
        status=ProjectStatus.ACTIVE.value,
    )
    session.add(project)
    await session.flush()
    return await view(session, storage, generations, project)


async def detail(
    session: AsyncSession, storage: Storage, generations: ProjectGenerations, user_id: str, project_id: str
) -> ProjectDetail:
    """The project with its latest generations."""
    project = await owned(session, user_id, project_id)
    latest = await generations.latest(session, project.id, LATEST_GENERATIONS)
    summary = await view(session, storage, generations, project)
    return ProjectDetail(**summary.model_dump(), generations=latest)


async def update(
    session: AsyncSession,
    storage: Storage,
    generations: ProjectGenerations,
    user_id: str,
    project_id: str,
    body: ProjectUpdate,
) -> ProjectOut:
    """Change the fields the body names; the others stay as they are."""
    project = await owned(session, user_id, project_id)
    changes: dict[str, Any] = {}
    if "project_name" in body.model_fields_set and body.project_name is not None:
        changes["name"] = body.project_name
    if "description" in body.model_fields_set:
        changes["description"] = body.description
    if "status" in body.model_fields_set and body.status is not None:
        changes["status"] = body.status.value
    if "avatar_attributes" in body.model_fields_set:
        changes["avatar_attributes"] = body.avatar_attributes.stored() if body.avatar_attributes else {}
    for name, value in changes.items():
        setattr(project, name, value)
    await session.flush()
    return await view(session, storage, generations, project)


async def delete(
    session: AsyncSession, generations: ProjectGenerations, user_id: str, project_id: str
) -> list[str]:
    """Delete the project and its avatar upload; the storage keys to remove once the deletion commits.

    `Conflict` while one of its generations is queued or processing. The row is
    locked first so the check and the delete see the same state.
    """
    project = await owned(session, user_id, project_id, for_update=True)
    active = await generations.active_count(session, project.id)
    if active:
        raise Conflict(
            "The project has generations in progress; wait for them or cancel them first",
            details={"activeGenerations": active},
        )
    avatar_id = project.avatar_upload_id
    await session.delete(project)
    await session.flush()
    return await repository.delete_uploads(session, [avatar_id] if avatar_id else [])


async def set_avatar(
    session: AsyncSession,
    storage: Storage,
    generations: ProjectGenerations,
    user_id: str,
    project_id: str,
    file: uploads.AsyncReadable,
    limits: uploads.UploadLimits,
) -> tuple[ProjectOut, list[str]]:
    """Store `file` through the upload pipeline and make it the project's avatar.

    Ownership is checked before the file is read: nobody gets an image processed
    against someone else's project. Returns the view and the storage keys of the
    replaced avatar, for the caller to remove once the change commits.
    """
    project = await owned(session, user_id, project_id)
    upload = await uploads.store_upload(session, storage, user_id=user_id, file=file, limits=limits)
    previous = project.avatar_upload_id
    project.avatar_upload_id = upload.id
    await session.flush()
    replaced = await repository.delete_uploads(session, [previous] if previous else [])
    return await view(session, storage, generations, project), replaced
