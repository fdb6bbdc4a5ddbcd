"""The render context the pipeline hands an engine with each job (`engines.base.RenderContext`):
where an earlier attempt left remote work, recording new remote work before it is submitted, and
step progress sent live as `pose.progress`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from posegen.db import Database
from posegen.engines.base import RemoteJob
from posegen.generation.event_kinds import PoseProgress
from posegen.generation.events import live_message
from posegen.work import leases
from posegen.work.jobs import Job, LeaseLost

# API.md: at most two `pose.progress` events per second per pose.
PROGRESS_INTERVAL_SECONDS = 0.5

Publish = Callable[[dict[str, Any]], None]


class JobContext:
    """The context of one claimed job. Used from the event loop only (an engine that reports from
    a thread hops to the loop first)."""

    def __init__(
        self,
        db: Database,
        job: Job[Any],
        worker_id: str,
        publish: Publish | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._job = job
        self._worker_id = worker_id
        self._publish = publish
        self._clock = clock
        row = job.row
        self._remote = (
            RemoteJob(row.remote_server, row.remote_job_id)
            if row.remote_server is not None and row.remote_job_id is not None
            else None
        )
        self._last_progress: float | None = None
        self.progress_sent = 0

    @property
    def remote(self) -> RemoteJob | None:
        return self._remote

    async def remember(self, job: RemoteJob) -> None:
        model, row_id, worker_id = self._job.kind.model, self._job.id, self._worker_id
        kept = await self._db.run(
            lambda session: leases.remember_remote(session, model, row_id, worker_id, job.server, job.job_id)
        )
        if not kept:
            raise LeaseLost
        self._remote = job

    def progress(self, step: int, steps: int) -> None:
        """Send `pose.progress` unless one went out less than half a second ago (the next
        step's report, or the pose's own final event, follows soon)."""
        if self._publish is None or steps < 1:
            return
        now = self._clock()
        if self._last_progress is not None and now - self._last_progress < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress = now
        step = min(max(step, 0), steps)
        event = PoseProgress(
            pose_id=self._job.pose_id, step=step, steps=steps, percentage=round(100 * step / steps, 2)
        )
        self._publish(live_message(self._job.generation_id, self._job.row.user_id, event))
        self.progress_sent += 1
