"""The job model: a unit of work is a row with a lease, and each kind of row (a pose render, a
background change) says how to claim it, prepare its render and settle it. The pipeline
(`work/pipeline.py`) runs every kind the same way; nothing here knows which kinds exist."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.config import Settings
from posegen.db import Database
from posegen.engines.base import BatchingEngine, RenderRequest
from posegen.generation.models import GeneratedPose, Generation
from posegen.generation.repository import Leased
from posegen.storage.base import Storage
from posegen.work.files import StoredFiles
from posegen.work.postprocess import Processed

if TYPE_CHECKING:
    from posegen.work.pose_check import Checked

RowT = TypeVar("RowT", bound=Leased)


class LeaseLost(Exception):
    """Another worker owns the row now (or it is gone); this worker's result is dropped."""


class Canceled(Exception):
    """The job's generation was cancelled while it was running."""


@dataclass(frozen=True)
class Job(Generic[RowT]):
    """One claimed row and what the pipeline needs to run and settle it."""

    kind: JobKind[RowT]
    row: RowT
    engine: str
    pose_id: str  # the generated pose the job renders (a background change re-renders one)
    # What the claim's transaction read for `prepare` (the kind's own type), so preparing a batch
    # of claimed jobs costs no transaction of its own; None: `prepare` reads it.
    inputs: Any = None

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def generation_id(self) -> str:
        return self.row.generation_id

    @property
    def attempts(self) -> int:
        return self.row.attempts

    @property
    def max_attempts(self) -> int:
        return self.row.max_attempts

    def log_context(self) -> dict[str, str]:
        """What every log line about this job carries (bound as structlog context vars)."""
        pose_id = self.row.id if isinstance(self.row, GeneratedPose) else self.row.pose_id
        return {
            "job": self.kind.name,
            "job_id": self.id,
            "generation_id": self.generation_id,
            "pose_id": pose_id,
        }


@dataclass(frozen=True)
class Services:
    """What a kind may use to prepare a job."""

    db: Database
    storage: Storage
    settings: Settings
    # Engines whose renders take the project's avatar picture (`Engine.takes_avatar_image`); only
    # their jobs read and decode it.
    avatar_engines: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Prepared:
    """A job ready to render: the request, the pose and generation it belongs to, where its files go.
    `canceled`: its generation was cancelled before the render started."""

    request: RenderRequest
    pose: GeneratedPose
    generation: Generation
    folder: str  # storage folder of this attempt; the pipeline appends the claim's tag
    formats: Sequence[str] = field(default_factory=list)
    canceled: bool = False


@dataclass(frozen=True)
class Timing:
    """How long a completed job took (`elapsed_ms`, claim of its unit to its commit) and this
    worker's measured pace of its engine (`seconds_per_pose`: seconds of one slot per pose,
    averaged, divided by the slots), from which progress events estimate the time remaining."""

    elapsed_ms: int
    seconds_per_pose: float


@dataclass(frozen=True)
class Completion:
    """The outcome of a completion's commit: `kept` False when the job was cancelled meanwhile
    (its new files are dropped); `stale` files the commit replaced, deleted after it."""

    kept: bool = True
    stale: list[str] = field(default_factory=list)


class JobKind(Protocol[RowT]):
    """One kind of leased work. Every method that writes runs inside the caller's unit of work and
    is guarded by the lease (`repository.lease_guard`): it raises `LeaseLost` or returns False when
    another worker owns the row now."""

    name: str
    model: type[RowT]
    # Whether a cancel of the job's generation stops it (checked by the pipeline's checkpoint).
    watches_cancel: bool
    # Whether its renders go through the pose check (`work/pose_check.py`) before they are stored.
    checks_pose: bool

    async def claim(
        self,
        session: AsyncSession,
        worker_id: str,
        engines: Sequence[str],
        now: datetime,
        lease_seconds: float,
    ) -> Job[RowT] | None:
        """Lease the next row of this kind (`claim_many` of one), or None."""

    async def claim_many(
        self,
        session: AsyncSession,
        worker_id: str,
        engines: Sequence[str],
        now: datetime,
        lease_seconds: float,
        limit: int,
    ) -> list[Job[RowT]]:
        """Lease up to `limit` rows of this kind in one statement (`claims.claim`), in the
        order a run of single claims would take them."""

    def batch_key(self, job: Job[RowT], engine: BatchingEngine) -> Hashable | None:
        """The job's `engine.batch_key` when it may share a batch with others (read from the
        inputs its claim read), else None."""

    async def prepare(self, services: Services, job: Job[RowT]) -> Prepared:
        """Read the inputs and build the render request; `LeaseLost` when they are gone."""

    async def complete(
        self,
        session: AsyncSession,
        job: Job[RowT],
        worker_id: str,
        prepared: Prepared,
        files: StoredFiles,
        processed: Processed,
        timing: Timing,
        checked: Checked | None = None,
    ) -> Completion:
        """Record the stored result (with its pose check, for a kind that `checks_pose`) and its
        events; `LeaseLost` when the lease was lost."""

    async def retry_later(
        self, session: AsyncSession, job: Job[RowT], worker_id: str, at: datetime, code: str, message: str
    ) -> bool:
        """Queue the row again after a transient failure, available at `at`."""

    async def fail(
        self,
        session: AsyncSession,
        job: Job[RowT],
        worker_id: str,
        code: str,
        message: str,
        checked: Checked | None = None,
    ) -> None:
        """End the row as failed, with its refund and events (and the pose check that failed it)."""

    async def cancel(self, session: AsyncSession, job: Job[RowT], worker_id: str) -> None:
        """End the row as cancelled, refunded, with its events."""
