"""Projects (list, create, read, change, delete, avatar) and image uploads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import structlog
from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, UploadFile, status
from pydantic import BeforeValidator
from starlette.datastructures import UploadFile as StarletteUploadFile

from posegen.auth.dependencies import CurrentUser
from posegen.db import Session, UnitOfWorkRoute
from posegen.dependencies import ProjectGenerationsDep, SettingsDep, StorageDep
from posegen.kit.pagination import PageRequest, page_params
from posegen.kit.schemas import Deleted
from posegen.openapi import errors, form_body
from posegen.projects import service, uploads
from posegen.projects.models import ProjectStatus
from posegen.projects.schemas import (
    ProjectCreate,
    ProjectDetailResult,
    ProjectList,
    ProjectResult,
    ProjectUpdate,
    UploadResult,
)
from posegen.storage.base import Storage

log = structlog.get_logger(__name__)

router = APIRouter(tags=["projects"], route_class=UnitOfWorkRoute)
uploads_router = APIRouter(tags=["uploads"], route_class=UnitOfWorkRoute)


def _uploaded_file(value: object) -> object:
    # Without this, a text form field named `file` is refused with a Python type name.
    if not isinstance(value, StarletteUploadFile):
        raise ValueError("file must be an uploaded image file (multipart/form-data), not text")
    return value


ImageFile = Annotated[
    UploadFile,
    BeforeValidator(_uploaded_file),
    File(description="A PNG, JPEG or WebP image (judged by content) within the upload limits."),
]


def upload_limits(settings: SettingsDep) -> uploads.UploadLimits:
    return uploads.UploadLimits.of(settings)


Limits = Annotated[uploads.UploadLimits, Depends(upload_limits)]


async def remove_files(storage: Storage, keys: Sequence[str]) -> None:
    """Delete stored files whose rows are gone; a failure is logged, the rows stay deleted.

    Run as a background task: it starts after the response, so after the commit,
    and a rolled-back request never loses its files.
    """
    for key in keys:
        try:
            await storage.delete(key)
        except Exception:
            # The client's request succeeded; an orphaned file is an operator's matter.
            log.exception("file_delete_failed", key=key)


@router.get("/projects")
async def list_projects(
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    generations: ProjectGenerationsDep,
    page: Annotated[PageRequest, Depends(page_params(10))],
    project_status: Annotated[ProjectStatus | None, Query(alias="status")] = None,
) -> ProjectList:
    """The caller's projects, newest first (default 10 per page), optionally only `active` or `archived`."""
    return await service.list_projects(session, storage, generations, user.id, project_status, page)


@router.post("/projects", status_code=status.HTTP_201_CREATED)
async def create_project(
    body: ProjectCreate,
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    generations: ProjectGenerationsDep,
) -> ProjectResult:
    """Create a project: a name, an optional description and how its avatar looks."""
    return ProjectResult(project=await service.create(session, storage, generations, user.id, body))


@router.get("/projects/{project_id}")
async def get_project(
    project_id: str,
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    generations: ProjectGenerationsDep,
) -> ProjectDetailResult:
    """One of the caller's projects with its 10 latest generations."""
    return ProjectDetailResult(
        project=await service.detail(session, storage, generations, user.id, project_id)
    )


@router.put("/projects/{project_id}")
async def update_project(
    project_id: str,
    body: ProjectUpdate,
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    generations: ProjectGenerationsDep,
) -> ProjectResult:
    """Change the fields given: name, description (`null` clears it), status, avatar attributes (replaced)."""
    return ProjectResult(
        project=await service.update(session, storage, generations, user.id, project_id, body)
    )


@router.delete("/projects/{project_id}", responses=errors(409))
async def delete_project(
    project_id: str,
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    generations: ProjectGenerationsDep,
    background: BackgroundTasks,
) -> Deleted:
    """Delete a project and its files; 409 while one of its generations is queued or processing."""
    keys = await service.delete(session, generations, user.id, project_id)
    background.add_task(remove_files, storage, keys)
    return Deleted()


@router.post("/projects/{project_id}/avatar", openapi_extra=form_body("ImageUpload"))
async def set_avatar(
    project_id: str,
    file: ImageFile,
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    generations: ProjectGenerationsDep,
    limits: Limits,
    background: BackgroundTasks,
) -> ProjectResult:
    """Upload the project's avatar image (re-encoded, metadata stripped); replaces any earlier one."""
    project, replaced = await service.set_avatar(
        session, storage, generations, user.id, project_id, file, limits
    )
    background.add_task(remove_files, storage, replaced)
    return ProjectResult(project=project)


@uploads_router.post("/uploads", status_code=status.HTTP_201_CREATED, openapi_extra=form_body("ImageUpload"))
async def create_upload(
    file: ImageFile,
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    limits: Limits,
) -> UploadResult:
    """Upload an image for later use (backgrounds, references). Private to the caller.

    Accepted by content, not name: PNG, JPEG or WebP; larger files or images are 413,
    anything else 415. The stored image is re-encoded without any metadata (EXIF, GPS,
    XMP, ICC), with its EXIF orientation applied.
    """
    upload = await uploads.store_upload(session, storage, user_id=user.id, file=file, limits=limits)
    return UploadResult(upload=uploads.upload_view(storage, upload))
