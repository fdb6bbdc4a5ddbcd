"""The worker: `concurrency` slots claim jobs of every kind and run them through the pipeline.

Each slot loops: claim one job (its own short transaction; poses before background changes), run
it (`work/pipeline.py`), or wait for work when there is none (`_wait_for_work`). Chores beside the
slots: a heartbeat and the reconciler.

Shutdown (`stop` set, e.g. on SIGTERM): no slot claims again; running jobs get
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
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.config import Settings
from posegen.db import Database
from posegen.engines.base import Engine
from posegen.kit.ids import new_id
from posegen.kit.time import utcnow
from posegen.storage.base import Storage
from posegen.work import repository
from posegen.work.jobs import Job, JobKind, Services
from posegen.work.kinds import KINDS
from posegen.work.pipeline import Pipeline
from posegen.work.reconciler import reconcile
from posegen.work.release import Released, release
from posegen.work.wakeup import LocalWakeup, Wakeup

log = structlog.get_logger(__name__)

HEARTBEAT_SECONDS = 5.0


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
        self.pipeline = Pipeline(Services(db, storage, settings), engines, self.id, claim_tag)
        # Hints that work became claimable (this process's and, by its carrier, other processes').
        self.wakeup = wakeup if wakeup is not None else LocalWakeup()
        self.busy = 0

    # -- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Work until `stop` is set, then drain: running jobs get the shutdown grace to finish and
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

    async def _heartbeat(self) -> None:
        host, pid, slots, busy = socket.gethostname(), os.getpid(), self.settings.work.concurrency, self.busy
        await self.db.run(
            lambda session: repository.heartbeat(session, self.id, host, pid, slots, busy, utcnow())
        )

    async def _reconcile(self) -> None:
        await reconcile(self.db, utcnow())

    def available_engines(self) -> list[str]:
        return [name for name, engine in self.engines.items() if engine.available()]

    async def _slot(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                job = await self.claim()
            except Exception:
                log.exception("claim_failed", worker_id=self.id)
                job = None
            if job is None:
                await self._wait_for_work(stop)
                continue
            self.busy += 1
            try:
                await self.pipeline.run(job)
            except Exception:
                log.exception("job_crashed", worker_id=self.id, **job.log_context())
            finally:
                self.busy -= 1

    async def _wait_for_work(self, stop: asyncio.Event) -> None:
        """The one idle wait of a slot: until a hint that work became claimable (`work.wakeup`, from
        this process or another), `stop`, or the poll interval (the safety net for a lost hint)."""
        await self.wakeup.wait(self.settings.work.poll_interval_seconds, stop)

    async def claim(self) -> Job[Any] | None:
        """Claim the next job of the first kind that has one, each claim in a short unit of work of
        its own (re-run on a transient error)."""
        engines, lease = self.available_engines(), self.settings.work.lease_seconds
        for kind in KINDS:

            async def unit(session: AsyncSession, kind: JobKind[Any] = kind) -> Job[Any] | None:
                return await kind.claim(session, self.id, engines, utcnow(), lease)

            job: Job[Any] | None = await self.db.run(unit)
            if job is not None:
                return job
        return None
