"""Background changes as a job kind: re-render a finished pose on its new background, replace its
files, and charge or refund — run and lease-guarded by the same pipeline as every pose."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.credits.service import Payment, pay_back
from posegen.engines.base import BatchingEngine, ErrorCode
from posegen.generation import events
from posegen.generation.backgrounds import REFERENCE
from posegen.generation.event_kinds import BackgroundCompleted, BackgroundFailed
from posegen.generation.locks import lock_generation
from posegen.generation.models import BackgroundChange, GeneratedPose, Generation, PoseStatus
from posegen.generation.repository import lease_guard
from posegen.kit.time import utcnow
from posegen.projects.models import Project, Upload
from posegen.work import claims, leases, repository
from posegen.work.files import StoredFiles
from posegen.work.inputs import background_spec, render_request
from posegen.work.jobs import Completion, Job, LeaseLost, Prepared, Services, Timing
from posegen.work.pose_check import Checked
from posegen.work.postprocess import Processed


class BackgroundKind:
    name = "background"
    model = BackgroundChange
    # A change re-renders a pose that already completed: a cancel of its generation stops the
    # generation's poses, not a change the user paid for separately.
    watches_cancel = False
    # A change keeps the pose's check: the same keypoints and seed are rendered again, not checked again.
    checks_pose = False

    async def claim(
        self,
        session: AsyncSession,
        worker_id: str,
        engines: Sequence[str],
        now: datetime,
        lease_seconds: float,
    ) -> Job[BackgroundChange] | None:
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
    ) -> list[Job[BackgroundChange]]:
        claimed = await claims.claim(session, BackgroundChange, engines, worker_id, now, lease_seconds, limit)
        return [Job(self, change, engine, change.pose_id) for change, engine in claimed]

    def batch_key(self, job: Job[BackgroundChange], engine: BatchingEngine) -> Hashable | None:
        return None  # a background change re-renders one pose on its own

    async def prepare(self, services: Services, job: Job[BackgroundChange]) -> Prepared:
        change = job.row
        pose, generation, project, upload = await services.db.run(
            lambda session: _inputs(session, change), write=False
        )
        background = await background_spec(
            services.storage, services.settings, change.mode, change.color, change.prompt, upload
        )
        return Prepared(
            request=render_request(pose, generation, project, background),
            pose=pose,
            generation=generation,
            folder=f"generations/{pose.generation_id}/{pose.id}/bg-{change.id}-a{change.attempts}",
            formats=list(generation.export_formats),
        )

    async def complete(
        self,
        session: AsyncSession,
        job: Job[BackgroundChange],
        worker_id: str,
        prepared: Prepared,
        files: StoredFiles,
        processed: Processed,
        timing: Timing,
        checked: Checked | None = None,
    ) -> Completion:
        change, pose = job.row, prepared.pose
        # LOCK ORDER (generation/locks.py): the generation before the change and its pose.
        if await lock_generation(session, change.generation_id) is None:
            raise LeaseLost  # the generation was deleted: its pose and this change went with it
        done = await session.execute(
            update(BackgroundChange)
            .where(lease_guard(BackgroundChange, change.id, worker_id))
            .values(
                status=PoseStatus.COMPLETED.value,
                lease_owner=None,
                lease_expires_at=None,
                completed_at=utcnow(),
                error_code=None,
                error_message=None,
            )
            .returning(BackgroundChange.id)
        )
        if done.first() is None:
            raise LeaseLost
        await session.execute(
            update(GeneratedPose)
            .where(GeneratedPose.id == pose.id)
            .values(
                image_key=files.image,
                thumbnail_key=files.thumbnail,
                control_map_key=files.control_map,
                export_keys=files.exports,
                background_changed=True,
            )
        )
        await events.append(
            session,
            change.generation_id,
            change.user_id,
            BackgroundCompleted(
                pose_id=pose.id, thumbnail_key=files.thumbnail, generation_time_ms=timing.elapsed_ms
            ),
        )
        old = [key for key in (pose.image_key, pose.thumbnail_key, pose.control_map_key) if key]
        old += list((pose.export_keys or {}).values())
        new = {files.image, files.thumbnail, files.control_map, *files.exports.values()}
        return Completion(stale=[key for key in dict.fromkeys(old) if key not in new])

    async def retry_later(
        self,
        session: AsyncSession,
        job: Job[BackgroundChange],
        worker_id: str,
        at: datetime,
        code: str,
        message: str,
    ) -> bool:
        return await leases.retry_later(session, BackgroundChange, job.id, worker_id, at, code, message)

    async def fail(
        self,
        session: AsyncSession,
        job: Job[BackgroundChange],
        worker_id: str,
        code: str,
        message: str,
        checked: Checked | None = None,
    ) -> None:
        await fail_change(session, job.row, code, message, worker_id=worker_id)

    async def cancel(self, session: AsyncSession, job: Job[BackgroundChange], worker_id: str) -> None:
        await fail_change(session, job.row, ErrorCode.CANCELED.value, "canceled", worker_id=worker_id)


async def _inputs(
    session: AsyncSession, change: BackgroundChange
) -> tuple[GeneratedPose, Generation, Project | None, Upload | None]:
    pose = await session.get(GeneratedPose, change.pose_id)
    generation = await session.get(Generation, change.generation_id)
    if pose is None or generation is None:
        raise LeaseLost  # deleted under the change (ON DELETE CASCADE took the change too)
    project = await session.get(Project, generation.project_id)
    upload = await session.get(Upload, change.upload_id) if change.upload_id else None
    return pose, generation, project, upload


async def fail_change(
    session: AsyncSession, change: BackgroundChange, code: str, message: str, *, worker_id: str | None
) -> bool:
    """Fail a change and refund it, with its `background.failed` event: the one way a change fails,
    after its last attempt (guarded by the lease of `worker_id`) or dead-lettered by the reconciler
    (`worker_id` None: guarded by the change still running). False when the guard did not match."""
    # LOCK ORDER (generation/locks.py): the generation before the change and the credit account.
    if await lock_generation(session, change.generation_id) is None:
        return False
    guard: ColumnElement[bool] = (
        lease_guard(BackgroundChange, change.id, worker_id)
        if worker_id is not None
        else and_(BackgroundChange.id == change.id, BackgroundChange.status == PoseStatus.RUNNING.value)
    )
    failed = await session.execute(
        update(BackgroundChange)
        .where(guard, BackgroundChange.refunded.is_(False))
        .values(
            status=PoseStatus.FAILED.value,
            lease_owner=None,
            lease_expires_at=None,
            refunded=True,
            completed_at=utcnow(),
            error_code=code,
            error_message=message[:500],
        )
        .returning(BackgroundChange.id)
    )
    if failed.first() is None:
        return False
    await pay_back(
        session,
        user_id=change.user_id,
        payment=Payment(credits=change.cost, quota_day=change.quota_day),
        poses=1,
        reason=f"refund: background change failed ({code})",
        reference_type=REFERENCE,
        reference_id=change.id,
    )
    await events.append(
        session,
        change.generation_id,
        change.user_id,
        BackgroundFailed(pose_id=change.pose_id, error_code=ErrorCode(code), refunded=change.cost),
    )
    return True


async def dead_letter_expired(session: AsyncSession, now: datetime, generation_id: str) -> int:
    """Fail and refund a generation's changes whose lease expired with no attempts left. The caller
    (the reconciler) holds the generation's lock (LOCK ORDER, generation/locks.py)."""
    expired = await session.scalars(
        repository.exhausted(BackgroundChange, now).where(BackgroundChange.generation_id == generation_id)
    )
    count = 0
    for change in list(expired):
        message = f"lease expired after {change.attempts} attempts"
        count += await fail_change(session, change, ErrorCode.DEAD_LETTERED.value, message, worker_id=None)
    return count


BACKGROUND = BackgroundKind()
