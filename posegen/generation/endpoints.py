"""Generation endpoints: submit, quote, list, detail, results, cancel, retry, delete, ZIP, engines, stats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Header, Query, status
from fastapi.responses import StreamingResponse

from posegen.auth.dependencies import CurrentUser
from posegen.db import Session, UnitOfWorkRoute, after_commit, reads_only
from posegen.dependencies import EnginesDep, SettingsDep, StorageDep, WakeDep
from posegen.errors import Conflict, ValidationFailed
from posegen.generation import backgrounds, exports, manage, service, stats
from posegen.generation import repository as generations
from posegen.generation.exports import delete_files, zip_entries, zip_presets
from posegen.generation.filenames import pose_stems
from posegen.generation.models import GenerationStatus, PoseStatus
from posegen.generation.repository import queue_position
from posegen.generation.schemas import (
    BackgroundChangeAccepted,
    BackgroundOptions,
    EngineList,
    ExportRequest,
    GenerateAccepted,
    GenerateRequest,
    GenerationDetail,
    GenerationList,
    GenerationResult,
    GenerationSingle,
    PoseExport,
    Quote,
    ResultsOut,
    RetryAccepted,
    UserStats,
)
from posegen.generation.views import engine_out, generation_out, pose_out, progress
from posegen.imaging.presets import resolve_preset
from posegen.imaging.zipstream import zip_stream
from posegen.kit.pagination import PageRequest, page_params
from posegen.kit.schemas import Deleted
from posegen.kit.tasks import background
from posegen.openapi import binary_body, errors
from posegen.ratelimit.http import PoseBudgetDep

log = structlog.get_logger(__name__)
router = APIRouter(tags=["generation"], route_class=UnitOfWorkRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$"),
]


@router.post("/generate", status_code=status.HTTP_202_ACCEPTED, responses=errors(402, 403, 404, 409))
async def generate(
    budget: PoseBudgetDep,  # first, so it closes after the session (see ratelimit/http.py)
    body: GenerateRequest,
    wake: WakeDep,
    user: CurrentUser,
    session: Session,
    settings: SettingsDep,
    engines: EnginesDep,
    idempotency_key: IdempotencyKey = None,
) -> GenerateAccepted:
    """Charge for and queue every pose variation. Repeating an Idempotency-Key with the same body
    returns the first answer without a new charge; with another body it is 409. The poses count
    against the caller's poses-per-hour limit (429 `RATE_LIMITED` when they do not fit)."""
    return await service.submit(
        session, settings, engines.get, user, body, idempotency_key, wake, budget.reserve
    )


@router.post("/generate/quote", dependencies=[Depends(reads_only)], responses=errors(403, 404))
async def quote(
    body: GenerateRequest, user: CurrentUser, session: Session, settings: SettingsDep, engines: EnginesDep
) -> Quote:
    """The price of this `/generate` body now and the caller's balance, before submitting it.

    The same checks and pricing as `/generate` (so the same validation errors), and nothing is
    written, charged or counted against a rate limit; whether the balance or quota suffices is
    for `/generate` to decide."""
    return await service.quote(session, settings, engines.get, user, body)


@router.get("/engines")
async def list_engines(engines: EnginesDep) -> EngineList:
    """The image engines this service offers, whether each can take work now, and what each quality
    gives on it (`tiers`: the original's size — draft 512², standard 1024², pro 1536² — and the
    engine's steps or model at that quality)."""
    return EngineList(engines=[engine_out(engine) for engine in engines.engines.values()])


@router.get("/stats")
async def user_statistics(user: CurrentUser, session: Session, storage: StorageDep) -> UserStats:
    """The caller's totals: completed poses, projects, recent generations, credits, top poses."""
    return await stats.user_stats(session, storage, user.id)


@router.get("/generations")
async def list_generations(
    user: CurrentUser,
    session: Session,
    page: Annotated[PageRequest, Depends(page_params(20))],
    project_id: Annotated[str | None, Query(alias="projectId", max_length=64)] = None,
    generation_status: Annotated[GenerationStatus | None, Query(alias="status")] = None,
) -> GenerationList:
    """The caller's generations, newest first."""
    rows, total = await manage.search(session, user, project_id, generation_status, page)
    return GenerationList(generations=[generation_out(row) for row in rows], pagination=page.result(total))


@router.get("/generations/{generation_id}")
async def get_generation(
    generation_id: str, user: CurrentUser, session: Session, storage: StorageDep
) -> GenerationResult:
    """A generation with every pose and its progress."""
    generation = await manage.owned(session, user, generation_id)
    poses = await generations.poses_of(session, generation.id)
    position = await queue_position(session, generation.created_at)
    names = await pose_stems(session, poses)
    detail = GenerationDetail(
        **generation_out(generation).model_dump(by_alias=False),
        poses=[pose_out(pose, storage, names[pose.id]) for pose in poses],
    )
    return GenerationResult(
        generation=detail,
        progress=progress(
            generation, position, await generations.seconds_per_pose(session, generation.engine)
        ),
    )


@router.get("/generations/{generation_id}/results")
async def results(generation_id: str, user: CurrentUser, session: Session, storage: StorageDep) -> ResultsOut:
    """The poses completed so far."""
    generation = await manage.owned(session, user, generation_id)
    done = await generations.poses_of(session, generation.id, PoseStatus.COMPLETED)
    names = await pose_stems(session, done)
    return ResultsOut(
        results=[pose_out(pose, storage, names[pose.id]) for pose in done],
        generation=generation_out(generation),
    )


@router.post("/generations/{generation_id}/cancel")
async def cancel(generation_id: str, wake: WakeDep, user: CurrentUser, session: Session) -> GenerationSingle:
    """Cancel: queued poses are refunded at once, running ones stop at their next checkpoint."""
    generation = await manage.cancel(session, user, generation_id, wake)
    return GenerationSingle(generation=generation_out(generation))


@router.post(
    "/generations/{generation_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    responses=errors(402, 403, 409),
)
async def retry(
    generation_id: str, wake: WakeDep, user: CurrentUser, session: Session, settings: SettingsDep
) -> RetryAccepted:
    """Queue the failed poses again, charging them again in the same transaction."""
    count = await manage.retry_failed(session, settings.pricing, user, generation_id, wake)
    return RetryAccepted(generation_id=generation_id, status="queued", poses_requeued=count)


@router.delete("/generations/{generation_id}", responses=errors(409))
async def delete_generation(
    generation_id: str, user: CurrentUser, session: Session, storage: StorageDep
) -> Deleted:
    """Delete a finished generation and its files."""
    keys = await manage.delete(session, user, generation_id)
    # Files go only once the rows are gone for good.
    after_commit(session, lambda: background(delete_files(storage, keys)))
    return Deleted()


@router.get(
    "/generations/{generation_id}/export-zip",
    response_class=StreamingResponse,
    responses={**binary_body("application/zip", description="The ZIP, streamed"), **errors(409)},
)
async def export_zip(
    generation_id: str,
    user: CurrentUser,
    session: Session,
    storage: StorageDep,
    formats: Annotated[
        str | None,
        Query(
            max_length=400,
            description="Comma-separated preset keys; without it, the formats the generation asked for.",
        ),
    ] = None,
    include_originals: Annotated[bool, Query(alias="includeOriginals")] = True,
) -> StreamingResponse:
    """Every completed pose's original and exports (rendered on the fly when missing) as a streamed
    ZIP: one folder per pose named after the library pose and variation, e.g.
    `arms-crossed-v1/original.png` and `arms-crossed-v1/instagram_feed.jpg`. A ZIP that would hold
    nothing (no pose completed, or no file asked for) is a 409."""
    keys = [key.strip() for key in (formats or "").split(",") if key.strip()]
    presets = []
    for key in keys:
        preset = resolve_preset(key)
        if preset is None:
            raise ValidationFailed(f"formats: unknown format {key!r}", field="formats")
        presets.append(preset)
    generation = await manage.owned(session, user, generation_id)
    if formats is None:
        requested = (resolve_preset(key) for key in generation.export_formats or [])
        presets = [preset for preset in requested if preset is not None]
    files = zip_presets(presets, include_originals)
    poses = [
        pose
        for pose in await generations.poses_of(session, generation.id, PoseStatus.COMPLETED)
        if pose.image_key is not None
    ]
    if not poses:
        raise Conflict("The ZIP would be empty: no pose of this generation has completed")
    if not files:
        raise Conflict("The ZIP would be empty: ask for the originals or at least one format")
    stems = await pose_stems(session, poses)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in zip_stream(zip_entries(storage, poses, stems, files)):
            yield chunk

    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="poses-{generation.id}.zip"'},
    )


@router.post("/poses/{pose_id}/regenerate-export", responses=errors(409))
async def regenerate_export(
    pose_id: str, body: ExportRequest, user: CurrentUser, session: Session, storage: StorageDep
) -> PoseExport:
    """Render one export of a finished pose again (free)."""
    key, storage_key, name = await exports.regenerate_export(session, storage, user.id, pose_id, body.format)
    return PoseExport(format=key, export_url=storage.url(storage_key, name))


@router.post(
    "/poses/{pose_id}/background", status_code=status.HTTP_202_ACCEPTED, responses=errors(402, 403, 409)
)
async def change_background(
    pose_id: str,
    body: BackgroundOptions,
    wake: WakeDep,
    user: CurrentUser,
    session: Session,
    settings: SettingsDep,
    engines: EnginesDep,
) -> BackgroundChangeAccepted:
    """Give a finished pose a new background: charged now, refunded if it fails."""
    return await backgrounds.request_change(session, settings, engines.get, user, pose_id, body, wake)
