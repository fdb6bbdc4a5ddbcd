"""The worker: `concurrency` slots run jobs of every kind through the pipeline; one claimer feeds them.

The claimer claims as many jobs as slots are idle (up to `work.batch_size` per slot while an engine
that renders batches is available, `work/batches.py`), in one short transaction (poses before
background changes, each kind in one statement), and hands them to the idle slots as units; when there was
less work than idle slots it waits for work (`_wait_for_work`). Each slot loops: take a unit, run it
(`work/pipeline.py`), take the next. Chores beside them: a heartbeat and the reconciler.

Shutdown (`stop` set, e.g. on SIGTERM): the claimer claims no more; running jobs get
`work.shutdown_grace_seconds` to finish; then their renders are cancelled, the files they wrote
deleted, and their leases released (`release.release`), so another worker takes them at once with
the attempt not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.config import Settings
from posegen.db import Database
from posegen.engines.base import BatchingEngine, Engine
from posegen.kit.ids import new_id
from posegen.kit.time import utcnow
from posegen.storage.base import Storage
from posegen.work import leases, pose_check, repository
from posegen.work.batches import Unit, form_units
from posegen.work.jobs import Job, Services
from posegen.work.kinds import KINDS
from posegen.work.pipeline import Pipeline
from posegen.work.reconciler import reconcile
from posegen.work.release import Released, release
from posegen.work.wakeup import LocalWakeup, Wakeup

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 5.0

T = TypeVar("T")


class Worker:
    def __init__(
        self,
        db: Database,
        storage: Storage,
        engines: Mapping[str, Engine],
        settings: Settings,
        *,
        worker_id: str | None = None,
        wakeup: Wakeup | None = None,
    ) -> None:
        self.db = db
        self.engines = engines
        self.settings = settings
        self.id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{new_id()[-6:]}"
        # A short, key-safe tag of this worker's claims: a released job is claimed again without its
        # attempt counted, and the stopping worker's files must never share a key with its successor's.
        claim_tag = hashlib.sha256(self.id.encode()).hexdigest()[:8]
        avatar_engines = frozenset(name for name, engine in engines.items() if engine.takes_avatar_image)
        services = Services(db, storage, settings, avatar_engines)
        self.pipeline = Pipeline(services, engines, self.id, claim_tag)
        # Hints that work became claimable (this process's and, by its carrier, other processes').
        self.wakeup = wakeup if wakeup is not None else LocalWakeup()
        self.busy = 0
        self.idle = 0  # slots waiting for a job from the claimer

    # -- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then drain: running jobs get the shutdown grace to finish and
        the rest are handed back to the queue (`drain`)."""
        work = self.settings.work
        log.info("worker_started", worker_id=self.id, concurrency=work.concurrency)
        handed: asyncio.Queue[Unit] = asyncio.Queue()
        wanted = asyncio.Event()
        slots = [asyncio.create_task(self._slot(stop, handed, wanted)) for _ in range(work.concurrency)]
        # The claimer counts as a slot for the drain: a claim in flight commits before the release.
        slots.append(asyncio.create_task(self._claimer(stop, handed, wanted)))
        chores = [
            asyncio.create_task(self._warm_up()),
            asyncio.create_task(self._every(stop, HEARTBEAT_SECONDS, self._heartbeat)),
            asyncio.create_task(self._every(stop, work.reconcile_interval_seconds, self._reconcile)),
        ]
        try:
            await stop.wait()
            await self.drain(slots, work.shutdown_grace_seconds)
        finally:
            for task in (*slots, *chores):
                task.cancel()
            self.pipeline.side_threads.close()
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
            released: Released = await self.db.run(lambda session: release(session, self.id, utcnow()))
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
        return {task for task in (*slots, *self.pipeline.finishing) if not task.done()}

    async def _every(self, stop: asyncio.Event, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        while not stop.is_set():
            try:
                await job()
            except Exception:
                log.exception("worker_job_failed", worker_id=self.id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), seconds)

    async def _warm_up(self) -> None:
        try:
            await pose_check.warm(self.engines.values(), self.settings.quality, self.pipeline.side_threads)
        except Exception:
            # The first check builds the detector instead (and reports a failure as its verdict).
            log.exception("pose_detector_warm_up_failed", worker_id=self.id)

    async def _heartbeat(self) -> None:
        host, pid, slots, busy = socket.gethostname(), os.getpid(), self.settings.work.concurrency, self.busy
        await self.db.run(
            lambda session: repository.heartbeat(session, self.id, host, pid, slots, busy, utcnow())
        )

    async def _reconcile(self) -> None:
        await reconcile(self.db, utcnow())

    def available_engines(self) -> list[str]:
        return [name for name, engine in self.engines.items() if engine.available()]

    async def _slot(self, stop: asyncio.Event, handed: asyncio.Queue[Unit], wanted: asyncio.Event) -> None:
        """Run the units the claimer hands over until `stop`."""
        while not stop.is_set():
            self.idle += 1
            wanted.set()
            try:
                unit = await _until_stopped(handed.get(), stop)
            finally:
                self.idle -= 1
            if unit is None:
                return
            self.busy += 1
            try:
                await self.pipeline.run_unit(unit)
            except Exception:
                log.exception("job_crashed", worker_id=self.id, **unit[0].log_context())
            finally:
                self.busy -= 1

    async def _claimer(self, stop: asyncio.Event, handed: asyncio.Queue[Unit], wanted: asyncio.Event) -> None:
        """Claim as many units as slots wait for, in one transaction, and hand them over; wait for
        work when there was less than that. Units handed over but not yet taken count as taken, so
        no job waits in the queue with its lease running."""
        while not stop.is_set():
            free = self.idle - handed.qsize()
            if free <= 0:
                wanted.clear()
                await _until_stopped(wanted.wait(), stop)
                continue
            wanted_jobs = free * self._per_slot()
            try:
                units, claimed = await self.claim_units(free, wanted_jobs)
            except Exception:
                log.exception("claim_failed", worker_id=self.id)
                units, claimed = [], 0
            for unit in units:
                handed.put_nowait(unit)
            if claimed < wanted_jobs:
                await self._wait_for_work(stop)

    def _per_slot(self) -> int:
        """Jobs to claim per idle slot: a batch while an engine that renders batches can take work."""
        batching = any(
            isinstance(engine, BatchingEngine) and engine.available() for engine in self.engines.values()
        )
        return self.settings.work.batch_size if batching else 1

    async def claim_units(self, slots: int, wanted: int) -> tuple[list[Unit], int]:
        """Claim up to `wanted` jobs and form them into units (`work/batches.py`); the first
        `slots` units are kept, the jobs of the others handed back at once. Also how many jobs
        were claimed (fewer than wanted: the queue had no more)."""
        jobs = await self.claim_many(wanted)
        units = form_units(jobs, self.engines, self.settings.work.batch_size)
        kept, extra = units[:slots], [job for unit in units[slots:] for job in unit]
        if extra:
            await self.db.run(lambda session: self._unclaim(session, extra))
        return kept, len(jobs)

    async def _unclaim(self, session: AsyncSession, jobs: list[Job[Any]]) -> None:
        now = utcnow()
        for kind in {job.kind for job in jobs}:
            ids = [job.id for job in jobs if job.kind is kind]
            await leases.unclaim(session, kind.model, ids, self.id, now)

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        """The one idle wait of the claimer: until a hint that work became claimable (`work.wakeup`,
        from this process or another), `stop`, or the poll interval (the safety net for a lost hint)."""
        await self.wakeup.wait(self.settings.work.poll_interval_seconds, stop)

    async def claim(self) -> Job[Any] | None:
        """Claim the next job of the first kind that has one (`claim_many` of one)."""
        jobs = await self.claim_many(1)
        return jobs[0] if jobs else None

    async def claim_many(self, wanted: int) -> list[Job[Any]]:
        """Claim up to `wanted` jobs in one short unit of work (re-run on a transient error): of
        the first kind as many as it has, then of the next kind the rest."""
        engines, lease = self.available_engines(), self.settings.work.lease_seconds

        async def unit(session: AsyncSession) -> list[Job[Any]]:
            now = utcnow()
            jobs: list[Job[Any]] = []
            for kind in KINDS:
                if len(jobs) >= wanted:
                    break
                jobs += await kind.claim_many(session, self.id, engines, now, lease, wanted - len(jobs))
            return jobs

        return await self.db.run(unit)


async def _until_stopped(awaitable: Awaitable[T], stop: asyncio.Event) -> T | None:
    """`awaitable`'s result, or None once `stop` is set first (the awaitable is then cancelled)."""
    task = asyncio.ensure_future(awaitable)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return None
