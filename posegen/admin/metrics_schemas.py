"""Response bodies of the admin metrics (DOMAIN.md "Metrics"); the figures are defined in
admin/metrics_repository.py and docs/decisions.md."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from posegen.kit.schemas import Schema, UtcDateTime

PeriodName = Literal["day", "week", "month", "year", "all", "custom"]


class PeriodOut(Schema):
    period: PeriodName = Field(description="The named period, or `custom` for startDate/endDate.")
    start_time: UtcDateTime | None = Field(description="Start of the window (inclusive); null for `all`.")
    end_time: UtcDateTime = Field(description="End of the window (exclusive).")


class PoseTimesOut(Schema):
    samples: int = Field(description="Completed poses with a recorded render time.")
    mean: float | None
    p50: float | None
    p95: float | None


class SystemMetrics(PeriodOut):
    total_generations: int
    active_generations: int = Field(description="Submitted in the window and still queued or processing.")
    completed_generations: int
    partial_generations: int
    failed_generations: int
    canceled_generations: int
    success_rate: float | None = Field(
        description="Completed / (completed + failed) poses × 100, 2 decimals; null before any finished."
    )
    total_poses_generated: int = Field(description="Completed poses.")
    avg_poses_per_generation: float | None = Field(
        description="Completed poses per generation, 2 decimals; null without generations."
    )
    avg_generation_time_ms: PoseTimesOut = Field(description="Render time per completed pose.")
    queue_depth: int = Field(description="Now: waiting + active.")
    queue_waiting: int = Field(description="Now: queued poses (backing-off retries included).")
    queue_active: int = Field(description="Now: running poses.")
    dead_poses: int = Field(description="Now: dead-lettered poses.")
    total_credits_spent: int = Field(description="Credits charged for the generations in the window.")
    total_credits_refunded: int = Field(description="Credits refunded on those generations.")
    refund_rate: float | None = Field(
        description="Refunded / spent × 100, 2 decimals; null when nothing spent."
    )


class TopUser(Schema):
    user_id: str
    email: str
    name: str
    generations: int
    poses_requested: int
    poses_generated: int
    credits_charged: int
    credits_refunded: int


class TopUsers(PeriodOut):
    users: list[TopUser]


class PopularPose(Schema):
    pose_id: str
    name: str
    slug: str
    category_id: str
    generations: int = Field(description="Generations that selected the pose.")
    poses_requested: int
    poses_generated: int


class PopularPoses(PeriodOut):
    poses: list[PopularPose]


class ErrorGroup(Schema):
    error_code: str
    count: int
    last_seen_at: UtcDateTime | None


class ErrorAnalysis(PeriodOut):
    total_failed: int
    errors: list[ErrorGroup]
