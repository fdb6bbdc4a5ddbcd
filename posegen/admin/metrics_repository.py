"""The SQL behind the admin metrics, `/health`'s thresholds and the Prometheus gauges.

Every figure is an aggregate computed by the database; no query loads the rows
it summarises into Python. A period selects *work submitted in it*: the
generations and poses whose `created_at` lies in `[start, end)` (a pose is
created with its generation, so both select the same cohort). What became of
that work — completed, failed, refunded — counts whenever it happened.
Queue figures (`QueueSnapshot`) are "now", independent of any period.

The definitions (docs/decisions.md, "Admin metrics"):

- success rate = completed poses / (completed + failed poses) × 100; cancelled
  poses are the user's choice, not a failure, and are left out of both sides;
- refund rate = credits refunded / credits charged × 100 (every refund, cancels included);
- time per pose = `generated_poses.generation_time_ms` of completed poses, as
  mean, p50 and p95 (percentiles interpolated like PostgreSQL's `percentile_cont`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth.models import User
from posegen.generation.models import GeneratedPose, Generation, GenerationStatus, PoseStatus
from posegen.library.models import Pose
from posegen.work.repository import is_paused

DEAD_LETTERED = "DEAD_LETTERED"
ACTIVE_GENERATION = (GenerationStatus.QUEUED.value, GenerationStatus.PROCESSING.value)


@dataclass(frozen=True)
class Window:
    """Work submitted in `[start, end)`; `start` None means since the beginning."""

    start: datetime | None
    end: datetime

    def generations(self) -> list[ColumnElement[bool]]:
        return _between(Generation.created_at, self)

    def poses(self) -> list[ColumnElement[bool]]:
        return _between(GeneratedPose.created_at, self)


def _between(column: Any, window: Window) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [column < window.end]
    if window.start is not None:
        conditions.append(column >= window.start)
    return conditions


def rate(part: int, whole: int) -> float | None:
    """`part / whole` as a percentage with 2 decimals; None when there is nothing to rate."""
    return round(100 * part / whole, 2) if whole else None


@dataclass(frozen=True)
class GenerationFigures:
    total: int
    active: int
    completed: int
    partial: int
    failed: int
    canceled: int
    poses_completed: int
    poses_failed: int
    credits_charged: int
    credits_refunded: int

    @property
    def success_rate(self) -> float | None:
        return rate(self.poses_completed, self.poses_completed + self.poses_failed)

    @property
    def refund_rate(self) -> float | None:
        return rate(self.credits_refunded, self.credits_charged)


def _count_if(condition: ColumnElement[bool]) -> Any:
    # SUM(CASE …) rather than COUNT(*) FILTER: the same SQL on both databases.
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def generation_figures(session: AsyncSession, window: Window) -> GenerationFigures:
    """Counts by status, pose counters and credits of the generations submitted in `window`.

    The pose counters are the generations' own (`poses_completed`, `poses_failed`), which equal the
    counts of their poses by status (DOMAIN.md invariant 3), so no pose row is read."""
    status = Generation.status
    row = (
        await session.execute(
            select(
                func.count(),
                _count_if(status.in_(ACTIVE_GENERATION)),
                _count_if(status == GenerationStatus.COMPLETED.value),
                _count_if(status == GenerationStatus.PARTIAL.value),
                _count_if(status == GenerationStatus.FAILED.value),
                _count_if(status == GenerationStatus.CANCELED.value),
                func.coalesce(func.sum(Generation.poses_completed), 0),
                func.coalesce(func.sum(Generation.poses_failed), 0),
                func.coalesce(func.sum(Generation.credit_charged), 0),
                func.coalesce(func.sum(Generation.credit_refunded), 0),
            ).where(*window.generations())
        )
    ).one()
    return GenerationFigures(*(int(value) for value in row))


@dataclass(frozen=True)
class PoseTimes:
    """Render time per completed pose, in milliseconds; None without samples."""

    samples: int
    mean: float | None
    p50: float | None
    p95: float | None


def _ranks(count: int, fraction: float) -> tuple[int, int, float]:
    """The 0-based ranks around `fraction` of `count` sorted samples and the weight of the upper one
    (linear interpolation, as `percentile_cont`)."""
    position = fraction * (count - 1)
    low = math.floor(position)
    return low, math.ceil(position), position - low


async def pose_times(session: AsyncSession, window: Window) -> PoseTimes:
    """Mean, p50 and p95 of the render time of the completed poses submitted in `window`.

    SQLite has no `percentile_cont`, so both databases do the same: one query counts, one ranks the
    samples with `row_number()` and returns only the (at most four) rows around the two percentiles."""
    timed = (
        GeneratedPose.status == PoseStatus.COMPLETED.value,
        GeneratedPose.generation_time_ms.is_not(None),
        *window.poses(),
    )
    count, mean = (
        await session.execute(select(func.count(), func.avg(GeneratedPose.generation_time_ms)).where(*timed))
    ).one()
    count = int(count)
    if count == 0:
        return PoseTimes(0, None, None, None)
    p50, p95 = _ranks(count, 0.50), _ranks(count, 0.95)
    wanted = sorted({p50[0], p50[1], p95[0], p95[1]})
    ranked = (
        select(
            GeneratedPose.generation_time_ms.label("ms"),
            (func.row_number().over(order_by=GeneratedPose.generation_time_ms) - 1).label("rank"),
        )
        .where(*timed)
        .subquery()
    )
    rows = await session.execute(select(ranked.c.rank, ranked.c.ms).where(ranked.c.rank.in_(wanted)))
    value = {int(rank): float(ms) for rank, ms in rows}

    def at(ranks: tuple[int, int, float]) -> float:
        low, high, weight = ranks
        return round(value[low] + (value[high] - value[low]) * weight, 2)

    return PoseTimes(count, round(float(mean), 2), at(p50), at(p95))


@dataclass(frozen=True)
class QueueSnapshot:
    """The queue now: queued (waiting, backing-off included) and running poses, dead letters."""

    waiting: int
    active: int
    oldest_queued_at: datetime | None
    paused: bool

    @property
    def depth(self) -> int:
        return self.waiting + self.active

    def oldest_age_seconds(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_queued_at).total_seconds()) if self.oldest_queued_at else 0.0


async def queue_snapshot(session: AsyncSession) -> QueueSnapshot:
    """Counts of queued and running poses and the submission time of the oldest queued one.

    The status index serves each count and `(status, created_at)` the oldest, so this stays cheap
    however many finished poses the table holds."""
    queued = GeneratedPose.status == PoseStatus.QUEUED.value
    waiting, oldest = (
        await session.execute(select(func.count(), func.min(GeneratedPose.created_at)).where(queued))
    ).one()
    active = await session.scalar(
        select(func.count())
        .select_from(GeneratedPose)
        .where(GeneratedPose.status == PoseStatus.RUNNING.value)
    )
    return QueueSnapshot(int(waiting), int(active or 0), oldest, await is_paused(session))


async def dead_poses(session: AsyncSession) -> int:
    """Poses that ran out of attempts and wait in the dead-letter view."""
    count = await session.scalar(
        select(func.count())
        .select_from(GeneratedPose)
        .where(GeneratedPose.status == PoseStatus.FAILED.value, GeneratedPose.error_code == DEAD_LETTERED)
    )
    return int(count or 0)


@dataclass(frozen=True)
class UserUsage:
    user_id: str
    email: str
    name: str
    generations: int
    poses_requested: int
    poses_generated: int
    credits_charged: int
    credits_refunded: int


async def top_users(session: AsyncSession, window: Window, limit: int) -> list[UserUsage]:
    """The accounts that had the most poses generated (completed) from work submitted in `window`;
    ties by number of generations, then account id."""
    generated = func.sum(Generation.poses_completed)
    generations = func.count()
    usage = (
        select(
            Generation.user_id.label("user_id"),
            generations.label("generations"),
            func.sum(Generation.total_expected).label("requested"),
            generated.label("generated"),
            func.sum(Generation.credit_charged).label("charged"),
            func.sum(Generation.credit_refunded).label("refunded"),
        )
        .where(*window.generations())
        .group_by(Generation.user_id)
        .order_by(generated.desc(), generations.desc(), Generation.user_id)
        .limit(limit)
        .subquery()
    )
    rows = await session.execute(
        select(usage, User.email, User.name)
        .join(User, User.id == usage.c.user_id)
        .order_by(usage.c.generated.desc(), usage.c.generations.desc(), usage.c.user_id)
    )
    return [
        UserUsage(
            user_id=row.user_id,
            email=row.email,
            name=row.name,
            generations=int(row.generations),
            poses_requested=int(row.requested),
            poses_generated=int(row.generated),
            credits_charged=int(row.charged),
            credits_refunded=int(row.refunded),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PoseUsage:
    pose_id: str
    name: str
    slug: str
    category_id: str
    generations: int
    poses_requested: int
    poses_generated: int


async def popular_poses(session: AsyncSession, window: Window, limit: int) -> list[PoseUsage]:
    """The library poses chosen by the most generations submitted in `window`; ties by the poses
    requested of them, then pose id. Text-prompt poses name no library pose and are not counted."""
    generations = func.count(distinct(GeneratedPose.generation_id))
    requested = func.count()
    usage = (
        select(
            GeneratedPose.pose_id.label("pose_id"),
            generations.label("generations"),
            requested.label("requested"),
            _count_if(GeneratedPose.status == PoseStatus.COMPLETED.value).label("generated"),
        )
        .where(GeneratedPose.pose_id.is_not(None), *window.poses())
        .group_by(GeneratedPose.pose_id)
        .order_by(generations.desc(), requested.desc(), GeneratedPose.pose_id)
        .limit(limit)
        .subquery()
    )
    rows = await session.execute(
        select(usage, Pose.name, Pose.slug, Pose.category_id)
        .join(Pose, Pose.id == usage.c.pose_id)
        .order_by(usage.c.generations.desc(), usage.c.requested.desc(), usage.c.pose_id)
    )
    return [
        PoseUsage(
            pose_id=row.pose_id,
            name=row.name,
            slug=row.slug,
            category_id=row.category_id,
            generations=int(row.generations),
            poses_requested=int(row.requested),
            poses_generated=int(row.generated),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ErrorCount:
    code: str
    count: int
    last_seen_at: datetime | None


UNKNOWN_CODE = "UNKNOWN"


async def errors_by_code(session: AsyncSession, window: Window) -> Sequence[ErrorCount]:
    """Failed poses submitted in `window` by error code (cancelled poses are not errors): how many,
    and when the last of them failed. Most frequent first."""
    code = func.coalesce(GeneratedPose.error_code, UNKNOWN_CODE)
    count = func.count()
    rows = await session.execute(
        select(
            code.label("code"), count.label("failures"), func.max(GeneratedPose.completed_at).label("last")
        )
        .where(GeneratedPose.status == PoseStatus.FAILED.value, *window.poses())
        .group_by(code)
        .order_by(count.desc(), code)
    )
    return [ErrorCount(str(row.code), int(row.failures), row.last) for row in rows]
