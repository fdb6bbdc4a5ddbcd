"""Running a background change: re-render the finished pose on its new background, replace its
files, and charge or refund — lease-guarded like every other unit of work."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from posegen.credits.service import Payment, pay_back
from posegen.db import after_commit
from posegen.engines.base import EngineError, ErrorCode
from posegen.generation import events
from posegen.generation.backgrounds import REFERENCE
from posegen.generation.locks import lock_generation
from posegen.generation.models import BackgroundChange, GeneratedPose, Generation, PoseStatus
from posegen.kit.tasks import background
from posegen.kit.time import utcnow
from posegen.projects.models import Upload
from posegen.work.postprocess import process
from posegen.work.retry import delay_seconds

if TYPE_CHECKING:
    from posegen.work.worker import Worker

log = structlog.get_logger(__name__)


def _guard(change: BackgroundChange, worker_id: str) -> ColumnElement[bool]:
    return (
        (BackgroundChange.id == change.id)
        & (BackgroundChange.lease_owner == worker_id)
        & (BackgroundChange.status == PoseStatus.RUNNING.value)
    )


async def _inputs(
    session: AsyncSession, change: BackgroundChange
) -> tuple[GeneratedPose | None, Generation | None, Upload | None]:
    pose = await session.get(GeneratedPose, change.pose_id)
    generation = await session.get(Generation, change.generation_id)
    upload = await session.get(Upload, change.upload_id) if change.upload_id else None
    return pose, generation, upload


async def run_change(worker: Worker, change: BackgroundChange) -> None:
    written: list[str] = []
    started = time.perf_counter()
    try:
        pose, generation, upload = await worker.db.run(lambda session: _inputs(session, change), write=False)
        assert pose is not None
        assert generation is not None
        _, request = await worker.prepare(pose)
        spec = await worker.background_spec(change.mode, change.color, change.prompt, upload)
        result = await worker.engines[pose.engine].render(replace(request, background=spec))
        processed = await run_in_threadpool(
            process, result.image, result.pixel_points, list(generation.export_formats)
        )
        claim = f"a{change.attempts}-{worker.claim_tag}"  # unique per claim (see worker.pose_keys)
        base = f"generations/{pose.generation_id}/{pose.id}/bg-{change.id}-{claim}"
        keys = {
            "image": f"{base}/image.png",
            "thumbnail": f"{base}/thumbnail.webp",
            "control_map": f"{base}/control.png",
            **{f"export:{name}": f"{base}/{name}" for name in processed.exports},
        }
        await worker.store(keys, processed, written)
        await _complete(
            worker,
            change,
            pose,
            generation,
            keys,
            processed.exports,
            bool(processed.control_map_png),
            started,
        )
    except asyncio.CancelledError:
        # Shutdown: the change's lease is released next (outcomes.release); its files are no one's.
        await worker.delete(written)
        raise
    except EngineError as error:
        await worker.delete(written)
        await _failed(worker, change, error)
    except Exception as error:
        log.exception("background_change_failed", change_id=change.id)
        await worker.delete(written)
        await _failed(worker, change, EngineError(ErrorCode.INTERNAL, type(error).__name__, retryable=True))


async def _complete(
    worker: Worker,
    change: BackgroundChange,
    pose: GeneratedPose,
    generation: Generation,
    keys: dict[str, str],
    exports: dict[str, bytes],
    has_control: bool,
    started: float,
) -> None:
    old = [key for key in (pose.image_key, pose.thumbnail_key, pose.control_map_key) if key]
    old += list((pose.export_keys or {}).values())
    new_exports = {name: keys[f"export:{name}"] for name in exports}
    if "original" in generation.export_formats:
        new_exports["original"] = keys["image"]

    async def unit(session: AsyncSession) -> None:
        # LOCK ORDER (generation/locks.py): the generation before the change and its pose.
        if await lock_generation(session, change.generation_id) is None:
            raise RuntimeError("the generation was deleted")
        done = await session.execute(
            update(BackgroundChange)
            .where(_guard(change, worker.id))
            .values(
                status=PoseStatus.COMPLETED.value,
                lease_owner=None,
                lease_expires_at=None,
                completed_at=utcnow(),
            )
            .returning(BackgroundChange.id)
        )
        if done.first() is None:
            raise RuntimeError("background change lease lost")
        await session.execute(
            update(GeneratedPose)
            .where(GeneratedPose.id == pose.id)
            .values(
                image_key=keys["image"],
                thumbnail_key=keys["thumbnail"],
                control_map_key=keys["control_map"] if has_control else None,
                export_keys=new_exports,
                background_changed=True,
            )
        )
        await events.append(
            session,
            pose.generation_id,
            pose.user_id,
            "background.completed",
            {
                "poseId": pose.id,
                "thumbnailKey": keys["thumbnail"],
                "generationTimeMs": round((time.perf_counter() - started) * 1000),
            },
        )
        stale = [key for key in old if key not in keys.values()]
        after_commit(session, lambda: background(worker.delete(stale)))
        worker.notify(session)

    await worker.db.run(unit)


async def _failed(worker: Worker, change: BackgroundChange, error: EngineError) -> None:
    await worker.db.run(lambda session: _fail(worker, session, change, error))


async def _fail(worker: Worker, session: AsyncSession, change: BackgroundChange, error: EngineError) -> None:
    # LOCK ORDER (generation/locks.py): the generation before the change and the credit account.
    if await lock_generation(session, change.generation_id) is None:
        return
    if error.retryable and change.attempts < change.max_attempts:
        delay = delay_seconds(error, change.attempts, worker.settings.work)
        await session.execute(
            update(BackgroundChange)
            .where(_guard(change, worker.id))
            .values(
                status=PoseStatus.QUEUED.value,
                lease_owner=None,
                lease_expires_at=None,
                available_at=utcnow() + timedelta(seconds=delay),
                error_code=error.code.value,
                error_message=error.message[:500],
            )
        )
        return
    failed = await session.execute(
        update(BackgroundChange)
        .where(_guard(change, worker.id), BackgroundChange.refunded.is_(False))
        .values(
            status=PoseStatus.FAILED.value,
            lease_owner=None,
            lease_expires_at=None,
            refunded=True,
            completed_at=utcnow(),
            error_code=error.code.value,
            error_message=error.message[:500],
        )
        .returning(BackgroundChange.id)
    )
    if failed.first() is None:
        return
    await pay_back(
        session,
        user_id=change.user_id,
        payment=Payment(credits=change.cost, quota_day=change.quota_day),
        poses=1,
        reason=f"refund: background change failed ({error.code.value})",
        reference_type=REFERENCE,
        reference_id=change.id,
    )
    await events.append(
        session,
        change.generation_id,
        change.user_id,
        "background.failed",
        {"poseId": change.pose_id, "errorCode": error.code.value, "refunded": change.cost},
    )
    worker.notify(session)


def expired_changes(now: datetime) -> Select[str]:
    """Generations with a background change whose lease expired with no attempts left."""
    return select(BackgroundChange.generation_id).where(
        BackgroundChange.status == PoseStatus.RUNNING.value,
        BackgroundChange.lease_expires_at < now,
        BackgroundChange.attempts >= BackgroundChange.max_attempts,
        BackgroundChange.refunded.is_(False),
    )


async def dead_letter_expired(session: AsyncSession, now: datetime, generation_id: str) -> int:
    """Fail and refund a generation's background changes whose lease expired with no attempts left.
    The caller (the reconciler) holds the generation's lock (LOCK ORDER, generation/locks.py)."""
    expired = await session.scalars(
        select(BackgroundChange).where(
            BackgroundChange.generation_id == generation_id,
            BackgroundChange.status == PoseStatus.RUNNING.value,
            BackgroundChange.lease_expires_at < now,
            BackgroundChange.attempts >= BackgroundChange.max_attempts,
            BackgroundChange.refunded.is_(False),
        )
    )
    count = 0
    for change in list(expired):
        change.status = PoseStatus.FAILED.value
        change.refunded = True
        change.lease_owner = None
        change.error_code = ErrorCode.DEAD_LETTERED.value
        change.completed_at = now
        await session.flush()
        await pay_back(
            session,
            user_id=change.user_id,
            payment=Payment(credits=change.cost, quota_day=change.quota_day),
            poses=1,
            reason="refund: background change dead-lettered",
            reference_type=REFERENCE,
            reference_id=change.id,
        )
        await events.append(
            session,
            change.generation_id,
            change.user_id,
            "background.failed",
            {"poseId": change.pose_id, "errorCode": ErrorCode.DEAD_LETTERED.value, "refunded": change.cost},
        )
        count += 1
    return count
