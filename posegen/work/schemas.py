"""Views of the work queue for its administrators: counts, workers, recovery runs, dead letters."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from posegen.kit.pagination import Pagination
from posegen.kit.schemas import Schema, UtcDateTime


class QueueCounts(Schema):
    queued_poses: int
    running_poses: int
    stalled_poses: int = Field(description="Running poses whose lease has expired.")
    dead_poses: int = Field(description="Poses dead-lettered after their last attempt.")
    oldest_queued_age_seconds: float


class QueuePaused(Schema):
    """Whether workers are stopped from claiming."""

    paused: bool


# `QueuePaused` last among the bases: pydantic orders inherited fields from the last base first,
# so `paused` leads, as the body always had it.
class QueueOverview(QueueCounts, QueuePaused):
    """`GET /admin/queue`: whether claims are paused, and the queue's counts."""


class WorkerOut(Schema):
    """A worker process that reported recently (`Out`: `Worker` is its row)."""

    id: str
    last_heartbeat_at: UtcDateTime
    busy_slots: int


class RecoveryRun(Schema):
    """The reconciler's last run."""

    at: UtcDateTime
    recovered: int
    dead_lettered: int


class RecoveryStatus(QueueCounts):
    """`GET /recovery/status`: queue counts, live workers, the last reconciler run."""

    workers: list[WorkerOut]
    last_recovery_run: RecoveryRun | None


class RecoveryResult(Schema):
    """`POST /recovery/trigger`: what the reconciler did now."""

    recovered: int
    dead_lettered: int


class DeadLetteredPose(Schema):
    id: str
    generation_id: str
    user_id: str
    variation_key: str
    attempts: int
    engine: str
    error_message: str | None
    dead_lettered_at: UtcDateTime | None


class DeadLetterList(Schema):
    poses: list[DeadLetteredPose]
    pagination: Pagination


class RequeuedPose(Schema):
    """A dead-lettered pose queued again."""

    pose_id: str
    status: Literal["queued"]
