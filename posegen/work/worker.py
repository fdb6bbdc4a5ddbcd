"""The worker: claims poses, renders them, stores the files, commits the outcome.

Each of `concurrency` slots loops: claim one pose (its own short transaction),
render with the lease renewed in the background, post-process in a thread,
write files under keys derived from the pose and attempt, then one commit
that is conditional on still holding the lease. A worker that lost its lease
drops its result and deletes the files it wrote, so no pose completes twice.

Shutdown (`stop` set, e.g. on SIGTERM): no slot claims again; running poses get
`work.shutdown_grace_seconds` to finish; then their renders are cancelled, the
files they wrote deleted, and their leases released (`outcomes.release`), so
another worker takes them at once with the attempt not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from enum import Enum
from typing import TypeVar, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from posegen.config import Settings
from posegen.db import Database, after_commit
from posegen.engines.base import (
    BackgroundSpec,
    Engine,
    EngineError,
    ErrorCode,
    Quality,
    RenderRequest,
    RenderResult,
)
from posegen.engines.flux.prompt import NEGATIVE_PROMPT
from posegen.generation.models import BackgroundChange, GeneratedPose, Generation, PoseStatus
from posegen.imaging.backgrounds import parse_hex_color
from posegen.imaging.budget import decode_rgb, shared_budget
from posegen.kit.ids import new_id
from posegen.kit.time import utcnow
from posegen.observability.prometheus import PROCESS as METRICS
from posegen.projects.models import Project, Upload
from posegen.storage.base import Storage
from posegen.work import outcomes, queue
from posegen.work.background_work import run_change
from posegen.work.postprocess import Processed, process
from posegen.work.reconciler import reconcile
from posegen.work.retry import delay_seconds
from posegen.work.wakeup import LocalWakeup, Wakeup

log = structlog.get_logger(__name__)

T = TypeVar("T")

HEARTBEAT_SECONDS = 5.0
# How often a running pose looks for a cancel of its generation (its checkpoint).
CANCEL_CHECK_SECONDS = 1.0


class Checkpoint(Enum):
    """Why a pose's renewer stopped: its generation was cancelled, or its lease was lost."""

    CANCELED = "canceled"
    LOST = "lost"


class LeaseLost(Exception):
    """Another worker owns the pose now; this one's result is dropped."""


class Canceled(Exception):
    """The generation was cancelled while this pose was running."""


def pose_keys(pose: GeneratedPose, formats: list[str], claim: str) -> dict[str, str]:
    """Where one claim of a pose writes its files. `claim` tells apart claims with the same attempt
    number: a released pose is claimed again without its attempt counted, and the stopping worker's
    files must never share a key with its successor's."""
    base = f"generations/{pose.generation_id}/{pose.id}/a{pose.attempts}-{claim}"
    keys = {
        "image": f"{base}/image.png",
        "thumbnail": f"{base}/thumbnail.webp",
        "control_map": f"{base}/control.png",
    }
    keys.update({f"export:{key}": f"{base}/{key}" for key in formats if key != "original"})
    return keys


async def uninterrupted(work: Awaitable[T]) -> T:
    """Await `work` to its end even if the caller is cancelled meanwhile. A completion's commit
    decides whether the files just written are kept, so a shutdown must not leave its outcome
    unknown; the cancel only asked the pose to stop, which it does right after."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        return await task


class Worker:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        engines: Mapping[str, Engine],
        settings: Settings,
        *,
        worker_id: str | None = None,
        on_commit: Callable[[], None] | None = None,
        wakeup: Wakeup | None = None,
    ) -> None:
        self.db = db
        self.storage = storage
        self.engines = engines
        self.settings = settings
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{new_id()[-6:]}"
        # A short, key-safe tag of this worker's claims (see `pose_keys`).
        self.claim_tag = hashlib.sha256(self.id.encode()).hexdigest()[:8]
        # Hints that work became claimable (this process's and, by its carrier, other processes').
        self.wakeup = wakeup if wakeup is not None else LocalWakeup()
        self.busy = 0
        self._finishing: set[asyncio.Task[None]] = set()
        self._finishers = asyncio.Semaphore(settings.work.concurrency)
        self._on_commit = on_commit

    # -- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then drain: running poses get the shutdown grace to finish and
        the rest are handed back to the queue (`drain`)."""
        work = self.settings.work
        log.info("worker_started", worker_id=self.id, concurrency=work.concurrency)
        slots = [asyncio.create_task(self._slot(stop)) for _ in range(work.concurrency)]
        chores = [
            asyncio.create_task(self._every(stop, HEARTBEAT_SECONDS, self._heartbeat)),
            asyncio.create_task(self._every(stop, work.reconcile_interval_seconds, self._reconcile)),
        ]
        try:
            await stop.wait()
            await self.drain(slots, work.shutdown_grace_seconds)
        finally:
            for task in (*slots, *chores):
                task.cancel()
            log.info("worker_stopped", worker_id=self.id)

    async def drain(self, slots: list[asyncio.Task[None]], grace_seconds: float) -> None:
        """Shutdown: the slots claim nothing more (they see `stop`); what is running gets
        `grace_seconds` to reach its outcome. Then the renders still going are cancelled (a
        finisher already committing ends its commit first), the files they wrote deleted, and only
        after that, so no file of this worker can land under a successor's, every lease this
        worker still holds is released in one unit of work."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_seconds
        while pending := self._in_flight(slots):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        cut_short = self._in_flight(slots)
        for task in cut_short:
            task.cancel()
        await asyncio.gather(*cut_short, return_exceptions=True)
        try:
            released = await self.db.run(self._release)
        except Exception:
            # The leases run out and the reconciler takes the work back (the attempt counted then).
            log.exception("release_failed", worker_id=self.id)
            return
        log.info(
            "worker_drained",
            worker_id=self.id,
            cut_short=len(cut_short),
            released_poses=released.poses,
            released_changes=released.changes,
        )

    def _in_flight(self, slots: list[asyncio.Task[None]]) -> set[asyncio.Task[None]]:
        return {task for task in (*slots, *self._finishing) if not task.done()}

    async def _release(self, session: AsyncSession) -> outcomes.Released:
        released = await outcomes.release(session, self.id, utcnow())
        self.notify(session)  # a cancelled generation's released poses were cancelled: events
        return released

    async def _every(self, stop: asyncio.Event, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        while not stop.is_set():
            try:
                await job()
            except Exception:
                log.exception("worker_job_failed", worker_id=self.id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    async def _heartbeat(self) -> None:
        host, pid, slots, busy = socket.gethostname(), os.getpid(), self.settings.work.concurrency, self.busy
        await self.db.run(lambda session: queue.heartbeat(session, self.id, host, pid, slots, busy, utcnow()))

    async def _reconcile(self) -> None:
        await reconcile(self.db, utcnow())

    def available_engines(self) -> list[str]:
        return [name for name, engine in self.engines.items() if engine.available()]

    async def _slot(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                pose = await self.claim()
                change = None if pose is not None else await self.claim_background()
            except Exception:
                log.exception("claim_failed", worker_id=self.id)
                pose = change = None
            if change is not None:
                self.busy += 1
                try:
                    await run_change(self, change)
                finally:
                    self.busy -= 1
                continue
            if pose is None:
                await self.wakeup.wait(self.settings.work.poll_interval_seconds, stop)
                continue
            self.busy += 1
            try:
                await self.process(pose)
            except Exception:
                log.exception("pose_processing_crashed", pose_id=pose.id)
            finally:
                self.busy -= 1

    async def claim(self) -> GeneratedPose | None:
        """Claim one pose in a short unit of work of its own (re-run on a transient error)."""

        async def unit(session: AsyncSession) -> GeneratedPose | None:
            pose = await queue.claim(
                session, self.id, self.available_engines(), utcnow(), self.settings.work.lease_seconds
            )
            if pose is not None:
                await outcomes.mark_started(session, pose.generation_id, pose.user_id)
            return pose

        started = time.perf_counter()
        pose = await self.db.run(unit)
        METRICS.claims.labels("claimed" if pose is not None else "empty").observe(
            time.perf_counter() - started
        )
        if pose is not None and pose.attempts == 1:
            METRICS.queue_wait.observe(max(0.0, (utcnow() - pose.created_at).total_seconds()))
        return pose

    async def claim_background(self) -> BackgroundChange | None:
        engines, lease = self.available_engines(), self.settings.work.lease_seconds
        return await self.db.run(
            lambda session: queue.claim_background(session, self.id, engines, utcnow(), lease)
        )

    # -- one pose --------------------------------------------------------------------------

    async def process(self, pose: GeneratedPose) -> None:
        """Render in the slot; hand storing and committing to a finisher so the slot claims its
        next pose at once. Finishers are bounded by the concurrency, so memory stays bounded."""
        started = time.perf_counter()
        renewer = asyncio.create_task(self._renew(pose))
        try:
            generation, request = await self.prepare(pose)
            if generation.cancel_requested:
                raise Canceled
            result = await self._render(pose, request, renewer)
        except BaseException as error:
            renewer.cancel()
            if isinstance(error, Exception):
                await self._settle(pose, error, [])
                return
            raise
        try:
            await self._finishers.acquire()
        except BaseException:
            renewer.cancel()  # shutdown: the lease is released, not renewed
            raise
        task = asyncio.create_task(self._finish(pose, generation, result, renewer, started))
        self._finishing.add(task)
        task.add_done_callback(self._finished)

    async def _render(
        self, pose: GeneratedPose, request: RenderRequest, renewer: asyncio.Task[Checkpoint]
    ) -> RenderResult:
        """The engine's render, abandoned as soon as the renewer reports the lease lost or the
        generation cancelled, so a cancel stops running poses within a checkpoint, not a render."""
        started = time.perf_counter()
        render = asyncio.create_task(self.engines[pose.engine].render(request))
        try:
            await asyncio.wait({render, renewer}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            render.cancel()
            raise
        if render.done():
            outcome = "ok" if render.exception() is None else "error"
            METRICS.engine_latency.labels(pose.engine, outcome).observe(time.perf_counter() - started)
            return render.result()
        render.cancel()
        with contextlib.suppress(BaseException):
            await render
        raise Canceled if renewer.result() is Checkpoint.CANCELED else LeaseLost

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._finishing.discard(task)
        self._finishers.release()

    async def _finish(
        self,
        pose: GeneratedPose,
        generation: Generation,
        result: RenderResult,
        renewer: asyncio.Task[Checkpoint],
        started: float,
    ) -> None:
        written: list[str] = []
        try:
            processed = await run_in_threadpool(
                process, result.image, result.pixel_points, list(generation.export_formats)
            )
            keys = pose_keys(pose, list(generation.export_formats), self.claim_tag)
            await self.store(keys, processed, written)
            if renewer.done():
                raise Canceled if renewer.result() is Checkpoint.CANCELED else LeaseLost
            if not await uninterrupted(self._complete(pose, generation, keys, processed, started)):
                # Cancelled meanwhile: the pose was cancelled and refunded instead of completed.
                await self.delete(written)
        except asyncio.CancelledError:
            # Shutdown cut the pose short before its commit; its lease is released next, so these
            # files belong to no outcome.
            await self.delete(written)
            raise
        except Exception as error:
            await self._settle(pose, error, written)
        finally:
            renewer.cancel()

    async def _settle(self, pose: GeneratedPose, error: Exception, written: list[str]) -> None:
        """The outcome of a pose that did not complete: cancelled, lease lost, retried or failed."""
        await self.delete(written)
        try:
            if isinstance(error, Canceled):
                await self._finish_canceled(pose)
            elif isinstance(error, LeaseLost):
                log.warning("lease_lost", pose_id=pose.id, worker_id=self.id)
            elif isinstance(error, EngineError):
                await self._failed(pose, error)
            elif isinstance(error, OSError):
                await self._failed(pose, EngineError(ErrorCode.STORAGE_ERROR, str(error), retryable=True))
            else:
                log.error(
                    "pose_failed_unexpectedly", pose_id=pose.id, error=type(error).__name__, exc_info=error
                )
                await self._failed(
                    pose, EngineError(ErrorCode.INTERNAL, type(error).__name__, retryable=True)
                )
        except Exception:
            # The lease runs out and the reconciler takes the pose back: nothing is lost.
            log.exception("pose_settle_failed", pose_id=pose.id)

    async def _renew(self, pose: GeneratedPose) -> Checkpoint:
        """The pose's checkpoints while it is worked on: every second (at most) a read of its
        generation's cancel flag, every third of the lease a renewal. Returns once the generation
        was cancelled or the lease was lost; runs until cancelled otherwise."""
        lease = self.settings.work.lease_seconds
        tick = min(CANCEL_CHECK_SECONDS, lease / 3)
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(tick)
            if await self.db.run(
                lambda session: queue.cancel_requested(session, pose.generation_id), write=False
            ):
                return Checkpoint.CANCELED
            if time.monotonic() - renewed >= lease / 3 - tick / 2:
                if not await self.db.run(
                    lambda session: queue.renew(session, pose.id, self.id, utcnow(), lease)
                ):
                    return Checkpoint.LOST
                renewed = time.monotonic()

    async def prepare(self, pose: GeneratedPose) -> tuple[Generation, RenderRequest]:
        generation, project, upload = await self.db.run(
            lambda session: self._inputs(session, pose), write=False
        )
        background = await self.background_spec(
            generation.background_mode, generation.background_color, generation.background_prompt, upload
        )
        points = [(float(x), float(y), float(c)) for x, y, c in pose.keypoints["points"]]
        request = RenderRequest(
            points=points,
            depth=[float(z) for z in pose.keypoints.get("depth") or [0.0] * len(points)],
            pose_description=pose.prompt_used,
            prompt=pose.prompt_used,
            negative_prompt=NEGATIVE_PROMPT,
            width=pose.width or 1024,
            height=pose.height or 1024,
            quality=cast(Quality, generation.quality),  # validated on submission
            seed=pose.seed,
            avatar={
                key: str(value)
                for key, value in ((project.avatar_attributes if project else None) or {}).items()
            },
            background=background,
        )
        return generation, request

    @staticmethod
    async def _inputs(
        session: AsyncSession, pose: GeneratedPose
    ) -> tuple[Generation, Project | None, Upload | None]:
        generation = await session.get(Generation, pose.generation_id)
        if generation is None:
            raise LeaseLost  # the generation was deleted under the pose
        project = await session.get(Project, generation.project_id)
        upload = (
            await session.get(Upload, generation.background_upload_id)
            if generation.background_upload_id
            else None
        )
        return generation, project, upload

    async def background_spec(
        self, mode: str | None, color: str | None, prompt: str | None, upload: Upload | None
    ) -> BackgroundSpec | None:
        """The background a render gets (an uploaded image is decoded here, once per pose)."""
        if mode == "solid_color" and color:
            return BackgroundSpec("solid_color", color=parse_hex_color(color))
        if mode == "upload" and upload is not None:
            data = await self.storage.get(upload.storage_key)
            image = await decode_rgb(shared_budget(self.settings), data)
            return BackgroundSpec("upload", image=image)
        if mode == "ai_generate":
            return BackgroundSpec("ai_generate", prompt=prompt)
        return None

    async def store(self, keys: dict[str, str], processed: Processed, written: list[str]) -> None:
        """Write the files, adding each key to `written` as soon as it is stored, so a caller cut
        short midway knows what to delete."""
        files: list[tuple[str, bytes, str]] = [
            (keys["image"], processed.image_png, "image/png"),
            (keys["thumbnail"], processed.thumbnail_webp, "image/webp"),
        ]
        if processed.control_map_png is not None:
            files.append((keys["control_map"], processed.control_map_png, "image/png"))
        files += [(keys[f"export:{name}"], data, "") for name, data in processed.exports.items()]
        for key, data, content_type in files:
            await self.storage.put(key, data, content_type or None)
            written.append(key)

    async def delete(self, keys: list[str]) -> None:
        for key in keys:
            try:
                await self.storage.delete(key)
            except Exception:
                log.exception("cleanup_failed", key=key)

    async def _complete(
        self,
        pose: GeneratedPose,
        generation: Generation,
        keys: dict[str, str],
        processed: Processed,
        started: float,
    ) -> bool:
        """Commit the completion; False when the generation was cancelled meanwhile (the pose was
        cancelled and refunded instead). `LeaseLost` when another worker owns the pose now."""
        exports = {name: keys[f"export:{name}"] for name in processed.exports}
        if "original" in generation.export_formats:
            exports["original"] = keys["image"]
        fields = {
            "image_key": keys["image"],
            "thumbnail_key": keys["thumbnail"],
            "control_map_key": keys["control_map"] if processed.control_map_png is not None else None,
            "export_keys": exports,
            "figure_box": list(processed.figure_box) if processed.figure_box else None,
            "width": processed.width,
            "height": processed.height,
            "background_changed": generation.background_mode is not None,
            "generation_time_ms": round((time.perf_counter() - started) * 1000),
        }

        async def unit(session: AsyncSession) -> bool:
            applied = await outcomes.complete(session, pose, self.id, fields)
            if applied is None:
                raise LeaseLost
            self.notify(session)
            return not applied.canceled

        return await self.db.run(unit)

    async def _finish_canceled(self, pose: GeneratedPose) -> None:
        async def unit(session: AsyncSession) -> None:
            await outcomes.end(
                session, pose, PoseStatus.CANCELED, "CANCELED", "canceled by the user", worker_id=self.id
            )
            self.notify(session)

        await self.db.run(unit)

    async def _failed(self, pose: GeneratedPose, error: EngineError) -> None:
        log.info("pose_attempt_failed", pose_id=pose.id, code=error.code.value, retryable=error.retryable)
        METRICS.engine_errors.labels(pose.engine, error.code.value).inc()
        await self.db.run(lambda session: self._record_failure(session, pose, error))

    async def _record_failure(self, session: AsyncSession, pose: GeneratedPose, error: EngineError) -> None:
        if error.retryable and pose.attempts < pose.max_attempts:
            delay = delay_seconds(error, pose.attempts, self.settings.work)
            await outcomes.retry_later(
                session,
                pose,
                self.id,
                utcnow() + timedelta(seconds=delay),
                error.code.value,
                error.message,
            )
        else:
            await outcomes.end(
                session, pose, PoseStatus.FAILED, error.code.value, error.message, worker_id=self.id
            )
        self.notify(session)

    def notify(self, session: AsyncSession) -> None:
        """Tell listeners (the event bus) once this session's changes are committed."""
        if self._on_commit is not None:
            after_commit(session, self._on_commit)
