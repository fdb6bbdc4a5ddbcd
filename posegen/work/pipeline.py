"""One pipeline for every kind of job: claim → prepare → render → post-process → store → settle.

A slot renders with the lease renewed in the background (the job's watch), then hands storing and
committing to a finisher so it can claim its next job at once. Post-processing runs in a thread;
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
from collections.abc import Awaitable, Mapping
from datetime import timedelta
from enum import Enum
from typing import Any, TypeVar

import structlog
from starlette.concurrency import run_in_threadpool

from posegen.db import Database
from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    DetachedContext,
    Engine,
    EngineError,
    ErrorCode,
    RenderResult,
)
from posegen.kit.time import utcnow
from posegen.observability.prometheus import PROCESS as METRICS
from posegen.work import files, repository
from posegen.work.jobs import Canceled, Job, LeaseLost, Prepared, Services
from posegen.work.postprocess import process
from posegen.work.retry import delay_seconds

log = structlog.get_logger(__name__)

T = TypeVar("T")

# How often a running job looks for a cancel of its generation (its checkpoint).
CANCEL_CHECK_SECONDS = 1.0


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

    async def run(self, job: Job[Any]) -> None:
        """Render in the slot; hand storing and committing to a finisher so the slot claims its
        next job at once. Finishers are bounded by the concurrency, so memory stays bounded.

        Every log line about the job names its generation and pose: they are bound here, and the
        job's watch and finisher, started within, inherit them."""
        with structlog.contextvars.bound_contextvars(**job.log_context()):
            await self._run(job)

    async def _run(self, job: Job[Any]) -> None:
        started = time.perf_counter()
        watch = asyncio.create_task(self._watch(job))
        try:
            prepared = await job.kind.prepare(self.services, job)
            self._checkpoint(watch, prepared)
            result = await self._render(job, prepared, watch)
        except BaseException as error:
            watch.cancel()
            if isinstance(error, Exception):
                await self._settle(job, error, [])
                return
            raise
        try:
            await self._finishers.acquire()
        except BaseException:
            watch.cancel()  # shutdown: the lease is released, not renewed
            raise
        task = asyncio.create_task(self._finish(job, prepared, result, watch, started))
        self.finishing.add(task)
        task.add_done_callback(self._finished)

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

    async def _render(self, job: Job[Any], prepared: Prepared, watch: asyncio.Task[Watch]) -> RenderResult:
        """The engine's render, abandoned as soon as the watch reports the lease lost or the
        generation cancelled, so a cancel stops a running job within a checkpoint, not a render."""
        started = time.perf_counter()
        render = asyncio.create_task(self.engines[job.engine].render(prepared.request, DetachedContext()))
        try:
            await asyncio.wait({render, watch}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            render.cancel()
            raise
        if render.done():
            outcome = "ok" if render.exception() is None else "error"
            METRICS.engine_latency.labels(job.engine, outcome).observe(time.perf_counter() - started)
            return render.result()
        render.cancel()
        with contextlib.suppress(BaseException):
            await render
        self._checkpoint(watch)  # the watch ended: Canceled or LeaseLost
        raise LeaseLost  # a watch ends for no other reason

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
            processed = await run_in_threadpool(process, result.image, result.pixel_points, prepared.formats)
            stored = files.layout(f"{prepared.folder}-{self.claim_tag}", processed, prepared.formats)
            await files.store(storage, stored, processed, written)
            self._checkpoint(watch)
            elapsed_ms = round((time.perf_counter() - started) * 1000)
            completion = await uninterrupted(
                self.db.run(
                    lambda session: job.kind.complete(
                        session, job, self.worker_id, prepared, stored, processed, elapsed_ms
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
            await self.db.run(
                lambda session: job.kind.fail(session, job, self.worker_id, code, error.message)
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
                    lambda session: repository.renew(session, model, job.id, self.worker_id, utcnow(), lease)
                ):
                    return Watch.LOST
                renewed = time.monotonic()
