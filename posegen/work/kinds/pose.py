"""Pose renders as a job kind: claimed fairly between users, rendered from the generation's settings,
settled by `generation/outcomes.py` (refunds, counters, the generation's final status)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.db import after_commit
from posegen.generation import outcomes
from posegen.generation.models import GeneratedPose, Generation, PoseStatus
from posegen.observability.prometheus import PROCESS as METRICS
from posegen.projects.models import Project, Upload
from posegen.work import repository
from posegen.work.files import StoredFiles
from posegen.work.inputs import background_spec, render_request
from posegen.work.jobs import Completion, Job, LeaseLost, Prepared, Services
from posegen.work.postprocess import Processed

CANCELED_MESSAGE = "canceled by the user"


async def claim_pose(
    session: AsyncSession, worker_id: str, engines: Sequence[str], now: datetime, lease_seconds: float
) -> GeneratedPose | None:
    """Lease the next pose to `worker_id` (`repository.pose_candidates` says which) and move its
    generation to processing if this is its first claim."""
    if not engines:
        return None
    claimed = await repository.claim(
        session,
        GeneratedPose,
        repository.pose_candidates(engines, now),
        worker_id,
        now,
        lease_seconds,
        started_at=now,
    )
    if claimed is None:
        return None
    pose = claimed[0]
    await outcomes.mark_started(session, pose.generation_id, pose.user_id)
    return pose


class PoseKind:
    name = "pose"
    model = GeneratedPose
    watches_cancel = True

    async def claim(
        self,
        session: AsyncSession,
        worker_id: str,
        engines: Sequence[str],
        now: datetime,
        lease_seconds: float,
    ) -> Job[GeneratedPose] | None:
        started = time.perf_counter()
        pose = await claim_pose(session, worker_id, engines, now, lease_seconds)
        elapsed = time.perf_counter() - started
        after_commit(session, lambda: METRICS.claims.labels("claimed" if pose else "empty").observe(elapsed))
        if pose is None:
            return None
        if pose.attempts == 1:
            waited = max(0.0, (now - pose.created_at).total_seconds())
            after_commit(session, lambda: METRICS.queue_wait.observe(waited))
        return Job(self, pose, pose.engine, pose.id)

    async def prepare(self, services: Services, job: Job[GeneratedPose]) -> Prepared:
        pose = job.row
        generation, project, upload = await services.db.run(
            lambda session: _inputs(session, pose.generation_id), write=False
        )
        background = await background_spec(
            services.storage,
            services.settings,
            generation.background_mode,
            generation.background_color,
            generation.background_prompt,
            upload,
        )
        return Prepared(
            request=render_request(pose, generation, project, background),
            pose=pose,
            generation=generation,
            folder=f"generations/{pose.generation_id}/{pose.id}/a{pose.attempts}",
            formats=list(generation.export_formats),
            canceled=generation.cancel_requested,
        )

    async def complete(
        self,
        session: AsyncSession,
        job: Job[GeneratedPose],
        worker_id: str,
        prepared: Prepared,
        files: StoredFiles,
        processed: Processed,
        elapsed_ms: int,
    ) -> Completion:
        fields = {
            "image_key": files.image,
            "thumbnail_key": files.thumbnail,
            "control_map_key": files.control_map,
            "export_keys": files.exports,
            "figure_box": list(processed.figure_box) if processed.figure_box else None,
            "width": processed.width,
            "height": processed.height,
            "background_changed": prepared.generation.background_mode is not None,
            "generation_time_ms": elapsed_ms,
        }
        applied = await outcomes.complete(session, job.row, worker_id, fields)
        if applied is None:
            raise LeaseLost
        return Completion(kept=not applied.canceled)

    async def retry_later(
        self,
        session: AsyncSession,
        job: Job[GeneratedPose],
        worker_id: str,
        at: datetime,
        code: str,
        message: str,
    ) -> bool:
        # Only the pose changes, so only the pose is locked.
        if not await repository.retry_later(session, GeneratedPose, job.id, worker_id, at, code, message):
            return False
        after_commit(session, lambda: METRICS.pose_retries.labels(code).inc())
        return True

    async def fail(
        self, session: AsyncSession, job: Job[GeneratedPose], worker_id: str, code: str, message: str
    ) -> None:
        await outcomes.end(session, job.row, PoseStatus.FAILED, code, message, worker_id=worker_id)

    async def cancel(self, session: AsyncSession, job: Job[GeneratedPose], worker_id: str) -> None:
        await outcomes.end(
            session, job.row, PoseStatus.CANCELED, "CANCELED", CANCELED_MESSAGE, worker_id=worker_id
        )


async def _inputs(
    session: AsyncSession, generation_id: str
) -> tuple[Generation, Project | None, Upload | None]:
    generation = await session.get(Generation, generation_id)
    if generation is None:
        raise LeaseLost  # the generation was deleted under the pose
    project = await session.get(Project, generation.project_id)
    upload_id = generation.background_upload_id
    upload = await session.get(Upload, upload_id) if upload_id else None
    return generation, project, upload


POSE = PoseKind()
