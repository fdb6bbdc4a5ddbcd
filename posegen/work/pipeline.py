"""One pipeline for every kind of job: claim → prepare → render → check → post-process → store → settle.

A slot runs a unit of claimed jobs: one job, or a batch of compatible poses for an engine that
renders several in one pass (`engines.base.BatchingEngine`; the worker forms the units, see
`work/batches.py`). Each job keeps its own lease, watch, files and outcome. A slot renders with the
leases renewed in the background (each job's watch), then hands storing and committing to a
finisher per job so it can claim its next unit at once. A finisher first puts a pose render through
the pose check (`work/pose_check.py`: detection in a thread, free re-renders). The engine gets a
render context per job (`work/context.py`: remote work to re-attach to, step progress sent live).
Post-processing runs in a lower-priority thread (`work/side_threads.py`);
files go under keys unique to the claim; the commit is conditional on still holding the lease. A
worker that lost its lease drops its result and deletes the files it wrote, so nothing completes
twice. Failures are settled here for every kind: retried with the engine's backoff while attempts
remain, else failed (refunded, with events) by the kind. Cancellation is checked in one place,
`_checkpoint`, at the end of each stage and, while rendering, by the watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any, TypeVar

import structlog

from posegen.db import Database
from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    BatchingEngine,
    Engine,
    EngineError,
    ErrorCode,
    RenderResult,
)
from posegen.kit.time import utcnow
from posegen.observability.prometheus import PROCESS as METRICS
from posegen.work import files, leases, pose_check, repository
from posegen.work.context import JobContext
from posegen.work.jobs import Canceled, Job, LeaseLost, Prepared, Services, Timing
from posegen.work.postprocess import process
from posegen.work.retry import delay_seconds
from posegen.work.side_threads import SideThreads

log = structlog.get_logger(__name__)

T = TypeVar("T")

# How often a running job looks for a cancel of its generation (its checkpoint).
CANCEL_CHECK_SECONDS = 1.0
# Weight of the newest job in the moving average of an engine's time per job (the pace of progress).
PACE_WEIGHT = 0.2


class Watch(Enum):
    """Why a job's watch stopped: its generation was cancelled, or its lease was lost."""

    CANCELED = "canceled"
    LOST = "lost"


async def uninterrupted(work: Awaitable[T]) -> T:
    """Await `work` to its end even if the caller is cancelled meanwhile. A completion's commit
    decides whether the files just written are kept, so a shutdown must not leave its outcome
    unknown; the cancel only asked the job to stop, which it does right after."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        return await task


@dataclass(frozen=True)
class _Running:
    """A prepared job of a unit: its watch (lease and cancel) and the context its render gets."""

    job: Job[Any]
    prepared: Prepared
    watch: asyncio.Task[Watch]
    context: JobContext


def _stop_reason(watch: asyncio.Task[Watch]) -> Exception:
    """Why a job's watch ended before its render did, as its checkpoint says: cancelled or lease lost."""
    try:
        Pipeline._checkpoint(watch)
    except (Canceled, LeaseLost) as error:
        return error
    return LeaseLost()  # a watch ends for no other reason


class Pipeline:
    """Runs claimed jobs of any kind for one worker (`worker_id`, whose files carry `claim_tag`)."""

    def __init__(
        self, services: Services, engines: Mapping[str, Engine], worker_id: str, claim_tag: str
    ) -> None:
        self.services = services
        self.db: Database = services.db
        self.engines = engines
        self.worker_id = worker_id
        self.claim_tag = claim_tag
        self.lease_seconds = services.settings.work.lease_seconds
        self.finishing: set[asyncio.Task[None]] = set()
        self._finishers = asyncio.Semaphore(services.settings.work.concurrency)
        # One thread per finisher: post-processing and the pose check run in it one after the other.
        self.side_threads = SideThreads(services.settings.work.concurrency)
        self._seconds: dict[str, float] = {}  # per engine: moving average of a job's time in a slot

    async def run(self, job: Job[Any]) -> None:
        """Run one job (`run_unit` of one)."""
        await self.run_unit([job])

    async def run_unit(self, jobs: Sequence[Job[Any]]) -> None:
        """Render the unit in the slot (one engine call for all its jobs); hand storing and
        committing of each job to a finisher so the slot claims its next unit at once. Finishers
        are bounded by the concurrency, so memory stays bounded.

        Every log line about a job names its generation and pose: they are bound around each
        step of that job, and its watch and finisher, started within, inherit them."""
        started = time.perf_counter()
        ready: list[_Running] = []
        for job in jobs:
            with structlog.contextvars.bound_contextvars(**job.log_context()):
                running = await self._prepare(job)
            if running is not None:
                ready.append(running)
        handed = 0
        try:
            outcomes = await self._render(ready) if ready else []
            for running, outcome in zip(ready, outcomes, strict=True):
                with structlog.contextvars.bound_contextvars(**running.job.log_context()):
                    await self._hand_over(running, outcome, started)
                handed += 1
        except BaseException:
            for running in ready[handed:]:
                running.watch.cancel()  # shutdown: these leases are released, not renewed
            raise

    async def _prepare(self, job: Job[Any]) -> _Running | None:
        """The job with its watch started and its request built; None when it was settled already
        (cancelled before its render, inputs gone, preparing failed)."""
        watch = asyncio.create_task(self._watch(job))
        try:
            prepared = await job.kind.prepare(self.services, job)
            self._checkpoint(watch, prepared)
        except BaseException as error:
            watch.cancel()
            if isinstance(error, Exception):
                await self._settle(job, error, [])
                return None
            raise
        context = JobContext(self.db, job, self.worker_id, self.db.event_sink)
        return _Running(job, prepared, watch, context)

    async def _hand_over(self, running: _Running, outcome: RenderResult | Exception, started: float) -> None:
        """Settle a job whose render failed (or whose watch ended); give a rendered one to a finisher."""
        job, watch = running.job, running.watch
        if isinstance(outcome, Exception):
            watch.cancel()
            await self._settle(job, outcome, [])
            return
        await self._finishers.acquire()
        task = asyncio.create_task(self._finish(job, running.prepared, outcome, watch, started))
        self.finishing.add(task)
        task.add_done_callback(self._finished)

    def _pace(self, engine: str, elapsed: float) -> float:
        """Seconds per pose of `engine` in this worker, with `elapsed` measured: a job's time in a
        slot (moving average, recent jobs weigh most) over the slots working side by side."""
        average = self._seconds.get(engine)
        average = elapsed if average is None else average + PACE_WEIGHT * (elapsed - average)
        self._seconds[engine] = average
        return average / self.services.settings.work.concurrency

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.finishing.discard(task)
        self._finishers.release()

    @staticmethod
    def _checkpoint(watch: asyncio.Task[Watch], prepared: Prepared | None = None) -> None:
        """The one place a job learns it must stop: its generation was cancelled (seen when it was
        prepared, or by the watch since), or the watch lost the lease."""
        if prepared is not None and prepared.canceled:
            raise Canceled
        if watch.done() and not watch.cancelled():
            raise Canceled if watch.result() is Watch.CANCELED else LeaseLost

    async def _render(self, unit: Sequence[_Running]) -> list[RenderResult | Exception]:
        """The engine's render of the unit (`render`, or `render_batch` for more than one job),
        one outcome per job. A job whose watch ends meanwhile (cancel, lost lease) gets that as
        its outcome at once; the render is abandoned (cancelled, so the engine stops its remote
        or local work) once no job of the unit is left to render for."""
        engine_name = unit[0].job.engine
        engine = self.engines[engine_name]
        started = time.perf_counter()
        requests = [running.prepared.request for running in unit]
        contexts = [running.context for running in unit]
        render: asyncio.Task[Any]
        if len(unit) == 1:
            render = asyncio.create_task(engine.render(requests[0], contexts[0]))
        else:
            assert isinstance(engine, BatchingEngine), "only a batching engine gets units of several jobs"
            render = asyncio.create_task(engine.render_batch(requests, contexts))
        stopped: dict[int, Exception] = {}
        try:
            while not render.done() and len(stopped) < len(unit):
                watching = {running.watch for index, running in enumerate(unit) if index not in stopped}
                await asyncio.wait({render, *watching}, return_when=asyncio.FIRST_COMPLETED)
                for index, running in enumerate(unit):
                    if index not in stopped and running.watch.done():
                        stopped[index] = _stop_reason(running.watch)
        except BaseException:
            render.cancel()  # the slot itself was cancelled (shutdown)
            raise
        if not render.done():
            render.cancel()
            with contextlib.suppress(BaseException):
                await render
            return [stopped[index] for index in range(len(unit))]
        error = render.exception()
        METRICS.engine_latency.labels(engine_name, "ok" if error is None else "error").observe(
            time.perf_counter() - started
        )
        results: list[RenderResult | Exception]
        if error is not None:
            if not isinstance(error, Exception):
                raise error
            results = [error] * len(unit)
        elif len(unit) == 1:
            results = [render.result()]
        else:
            results = list(render.result())
        return [stopped.get(index, result) for index, result in enumerate(results)]

    async def _finish(
        self,
        job: Job[Any],
        prepared: Prepared,
        result: RenderResult,
        watch: asyncio.Task[Watch],
        started: float,
    ) -> None:
        written: list[str] = []
        storage = self.services.storage
        try:
            checked = None
            if job.kind.checks_pose:
                checked = await pose_check.check(
                    self.engines[job.engine],
                    prepared.request,
                    result,
                    self.services.settings.quality,
                    lambda: self._checkpoint(watch),
                    self.side_threads,
                )
                result = checked.result
            processed = await self.side_threads.run(
                process, result.image, result.pixel_points, prepared.formats
            )
            stored = files.layout(f"{prepared.folder}-{self.claim_tag}", processed, prepared.formats)
            await files.store(storage, stored, processed, written)
            self._checkpoint(watch)
            elapsed = time.perf_counter() - started
            timing = Timing(round(elapsed * 1000), self._pace(job.engine, elapsed))
            completion = await uninterrupted(
                self.db.run(
                    lambda session: job.kind.complete(
                        session, job, self.worker_id, prepared, stored, processed, timing, checked
                    )
                )
            )
            # Cancelled meanwhile: the job was cancelled and refunded instead; its files are no one's.
            await files.delete(storage, completion.stale if completion.kept else written)
        except asyncio.CancelledError:
            # Shutdown cut the job short before its commit; its lease is released next, so these
            # files belong to no outcome.
            await files.delete(storage, written)
            raise
        except Exception as error:
            await self._settle(job, error, written)
        finally:
            watch.cancel()

    async def _settle(self, job: Job[Any], error: Exception, written: list[str]) -> None:
        """The outcome of a job that did not complete: cancelled, lease lost, retried or failed."""
        await files.delete(self.services.storage, written)
        try:
            if isinstance(error, Canceled):
                await self.db.run(lambda session: job.kind.cancel(session, job, self.worker_id))
            elif isinstance(error, LeaseLost):
                log.warning("lease_lost", worker_id=self.worker_id)
            elif isinstance(error, EngineError):
                await self._failed(job, error)
            elif isinstance(error, OSError):
                await self._failed(job, EngineError(ErrorCode.STORAGE_ERROR, str(error), retryable=True))
            else:
                log.error("job_failed_unexpectedly", error=type(error).__name__, exc_info=error)
                await self._failed(job, EngineError(ErrorCode.INTERNAL, type(error).__name__, retryable=True))
        except Exception:
            # The lease runs out and the reconciler takes the job back: nothing is lost.
            log.exception("job_settle_failed")

    async def _failed(self, job: Job[Any], error: EngineError) -> None:
        """Retry with the engine's backoff while attempts remain; else the kind fails and refunds."""
        code = error.code.value
        log.info("attempt_failed", code=code, retryable=error.retryable, attempt=job.attempts)
        METRICS.engine_errors.labels(job.engine, code).inc()
        if error.retryable and job.attempts < job.max_attempts:
            engine = self.engines.get(job.engine)
            schedule = engine.retry_delays if engine is not None else DEFAULT_RETRY_DELAYS
            delay = delay_seconds(error, job.attempts, self.services.settings.work, schedule)
            at = utcnow() + timedelta(seconds=delay)
            await self.db.run(
                lambda session: job.kind.retry_later(session, job, self.worker_id, at, code, error.message)
            )
        else:
            checked = error.checked if isinstance(error, pose_check.PoseCheckFailed) else None
            await self.db.run(
                lambda session: job.kind.fail(session, job, self.worker_id, code, error.message, checked)
            )

    async def _watch(self, job: Job[Any]) -> Watch:
        """The job's checkpoints while it is worked on: every second (at most) a read of its
        generation's cancel flag (for kinds a cancel stops), every third of the lease a renewal.
        Returns once the generation was cancelled or the lease was lost; runs until cancelled
        otherwise."""
        lease = self.lease_seconds
        tick = min(CANCEL_CHECK_SECONDS, lease / 3)
        renewed = time.monotonic()
        model = job.kind.model
        while True:
            await asyncio.sleep(tick)
            if job.kind.watches_cancel and await self.db.run(
                lambda session: repository.cancel_requested(session, job.generation_id), write=False
            ):
                return Watch.CANCELED
            if time.monotonic() - renewed >= lease / 3 - tick / 2:
                if not await self.db.run(
                    lambda session: leases.renew(session, model, job.id, self.worker_id, utcnow(), lease)
                ):
                    return Watch.LOST
                renewed = time.monotonic()
