"""Pose renders as a job kind: claimed fairly between users, rendered from the generation's settings,
settled by `generation/outcomes.py` (refunds, counters, the generation's final status)."""

from __future__ import annotations

import time
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from posegen.db import after_commit
from posegen.engines.base import BatchingEngine
from posegen.generation import outcomes
from posegen.generation.models import GeneratedPose, Generation, GenerationStatus, PoseStatus
from posegen.observability.prometheus import PROCESS as METRICS
from posegen.projects.models import Project, Upload
from posegen.work import claims, leases
from posegen.work.files import StoredFiles
from posegen.work.inputs import avatar_image, background_spec, render_request
from posegen.work.jobs import Completion, Job, LeaseLost, Prepared, Services, Timing
from posegen.work.pose_check import Checked
from posegen.work.postprocess import Processed

CANCELED_MESSAGE = "canceled by the user"


async def claim_poses(
    session: AsyncSession,
    worker_id: str,
    engines: Sequence[str],
    now: datetime,
    lease_seconds: float,
    limit: int = 1,
) -> list[GeneratedPose]:
    """Lease up to `limit` poses to `worker_id` (`claim_with_inputs`)."""
    poses, _inputs = await claim_with_inputs(session, worker_id, engines, now, lease_seconds, limit)
    return poses


async def claim_with_inputs(
    session: AsyncSession,
    worker_id: str,
    engines: Sequence[str],
    now: datetime,
    lease_seconds: float,
    limit: int,
) -> tuple[list[GeneratedPose], dict[str, Inputs]]:
    """Lease up to `limit` poses to `worker_id` in one statement (`claims.pose_candidates` says
    which, fairly between users), read their inputs (by generation id) and move the generations
    still queued to processing, all in the caller's transaction. The inputs are read first, so a
    generation already processing costs no statement to start."""
    claimed = await claims.claim(session, GeneratedPose, engines, worker_id, now, lease_seconds, limit)
    poses = [pose for pose, _engine in claimed]
    if not poses:
        return [], {}
    inputs = await _inputs_of(session, {pose.generation_id for pose in poses})
    queued = GenerationStatus.QUEUED.value
    starting = {
        pose.generation_id: pose.user_id
        for pose in poses
        if pose.generation_id in inputs and inputs[pose.generation_id].generation.status == queued
    }
    # Guarded by the queued status again in the UPDATE; the generations in hand keep their read
    # status, which preparing a render does not use.
    await outcomes.mark_all_started(session, starting)
    return poses, inputs


async def claim_pose(
    session: AsyncSession, worker_id: str, engines: Sequence[str], now: datetime, lease_seconds: float
) -> GeneratedPose | None:
    """Lease the next pose to `worker_id` (`claim_poses` of one)."""
    poses = await claim_poses(session, worker_id, engines, now, lease_seconds)
    return poses[0] if poses else None


def _observe_claim(claimed: int, elapsed: float) -> None:
    """One observation per pose claimed (a batch's duration counts for each of its poses, so the
    count is poses claimed however they were batched), or one `empty` for a claim that found none."""
    if not claimed:
        METRICS.claims.labels("empty").observe(elapsed)
    for _ in range(claimed):
        METRICS.claims.labels("claimed").observe(elapsed)


class PoseKind:
    name = "pose"
    model = GeneratedPose
    watches_cancel = True
    checks_pose = True

    async def claim(
        self,
        session: AsyncSession,
        worker_id: str,
        engines: Sequence[str],
        now: datetime,
        lease_seconds: float,
    ) -> Job[GeneratedPose] | None:
        jobs = await self.claim_many(session, worker_id, engines, now, lease_seconds, 1)
        return jobs[0] if jobs else None

    async def claim_many(
        self,
        session: AsyncSession,
        worker_id: str,
        engines: Sequence[str],
        now: datetime,
        lease_seconds: float,
        limit: int,
    ) -> list[Job[GeneratedPose]]:
        started = time.perf_counter()
        poses, inputs = await claim_with_inputs(session, worker_id, engines, now, lease_seconds, limit)
        elapsed = time.perf_counter() - started
        after_commit(session, lambda: _observe_claim(len(poses), elapsed))
        waits = [max(0.0, (now - pose.created_at).total_seconds()) for pose in poses if pose.attempts == 1]
        if waits:
            after_commit(session, lambda: _observe_waits(waits))
        return [Job(self, pose, pose.engine, pose.id, inputs.get(pose.generation_id)) for pose in poses]

    def batch_key(self, job: Job[GeneratedPose], engine: BatchingEngine) -> Hashable | None:
        # The key needs no background: a batching engine takes the background in its prompt.
        if job.inputs is None:
            return None
        inputs: Inputs = job.inputs
        return engine.batch_key(render_request(job.row, inputs.generation, inputs.project, None))

    async def prepare(self, services: Services, job: Job[GeneratedPose]) -> Prepared:
        pose = job.row
        inputs: Inputs | None = job.inputs
        if inputs is None:
            inputs = await services.db.run(lambda session: _inputs(session, pose.generation_id), write=False)
        generation, project = inputs.generation, inputs.project
        background = await background_spec(
            services.storage,
            services.settings,
            generation.background_mode,
            generation.background_color,
            generation.background_prompt,
            inputs.background,
        )
        avatar = None
        if job.engine in services.avatar_engines:
            avatar = await avatar_image(services.storage, services.settings, inputs.avatar)
        return Prepared(
            request=render_request(pose, generation, project, background, avatar),
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
        timing: Timing,
        checked: Checked | None = None,
    ) -> Completion:
        fields: dict[str, Any] = {
            "image_key": files.image,
            "thumbnail_key": files.thumbnail,
            "control_map_key": files.control_map,
            "export_keys": files.exports,
            "figure_box": list(processed.figure_box) if processed.figure_box else None,
            "width": processed.width,
            "height": processed.height,
            "background_changed": prepared.generation.background_mode is not None,
            "generation_time_ms": timing.elapsed_ms,
            **(checked.fields() if checked is not None else {}),
        }
        applied = await outcomes.complete(session, job.row, worker_id, fields, timing.seconds_per_pose)
        if applied is None:
            raise LeaseLost
        if checked is not None and not applied.canceled:
            after_commit(session, lambda: _observe_check(job.engine, checked))
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
        if not await leases.retry_later(session, GeneratedPose, job.id, worker_id, at, code, message):
            return False
        after_commit(session, lambda: METRICS.pose_retries.labels(code).inc())
        return True

    async def fail(
        self,
        session: AsyncSession,
        job: Job[GeneratedPose],
        worker_id: str,
        code: str,
        message: str,
        checked: Checked | None = None,
    ) -> None:
        fields = checked.fields() if checked is not None else None
        applied = await outcomes.end(
            session, job.row, PoseStatus.FAILED, code, message, worker_id=worker_id, fields=fields
        )
        if checked is not None and applied is not None:
            after_commit(session, lambda: _observe_check(job.engine, checked))

    async def cancel(self, session: AsyncSession, job: Job[GeneratedPose], worker_id: str) -> None:
        await outcomes.end(
            session, job.row, PoseStatus.CANCELED, "CANCELED", CANCELED_MESSAGE, worker_id=worker_id
        )


def _observe_check(engine: str, checked: Checked) -> None:
    METRICS.pose_checked(engine, checked.verdict.check.value, checked.verdict.score, checked.rerenders)


def _observe_waits(waits: list[float]) -> None:
    for waited in waits:
        METRICS.queue_wait.observe(waited)


@dataclass(frozen=True)
class Inputs:
    """What a pose's render needs besides the pose: its generation, project, background picture
    and the project's avatar picture (the rows; the pictures are read from storage when prepared)."""

    generation: Generation
    project: Project | None
    background: Upload | None
    avatar: Upload | None


async def _inputs_of(session: AsyncSession, generation_ids: set[str]) -> dict[str, Inputs]:
    """The inputs of the claimed poses' generations, read in the claim's transaction: one
    statement for the whole batch. A generation deleted meanwhile is left out (its job reads
    again in `prepare`, which drops it)."""
    background, avatar = aliased(Upload), aliased(Upload)
    rows = await session.execute(
        select(Generation, Project, background, avatar)
        .outerjoin(Project, Project.id == Generation.project_id)
        .outerjoin(background, background.id == Generation.background_upload_id)
        .outerjoin(avatar, avatar.id == Project.avatar_upload_id)
        .where(Generation.id.in_(generation_ids))
    )
    return {row[0].id: Inputs(*row) for row in rows.all()}


async def _inputs(session: AsyncSession, generation_id: str) -> Inputs:
    inputs = await _inputs_of(session, {generation_id})
    if generation_id not in inputs:
        raise LeaseLost  # the generation was deleted under the pose
    return inputs[generation_id]


POSE = PoseKind()
