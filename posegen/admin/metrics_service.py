"""The rules of the admin metrics: which window a request means, and the figures assembled from
the repository's aggregates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.admin import metrics_repository as repository
from posegen.admin.metrics_repository import GenerationFigures, PoseTimes, QueueSnapshot, Window
from posegen.admin.metrics_schemas import (
    ErrorAnalysis,
    ErrorGroup,
    PeriodName,
    PopularPose,
    PopularPoses,
    PoseTimesOut,
    SystemMetrics,
    TopUser,
    TopUsers,
)
from posegen.errors import ValidationFailed
from posegen.kit.time import utcnow

# Rolling windows that end now; `all` has no start.
PERIODS: dict[str, timedelta | None] = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
    "all": None,
}
DEFAULT_PERIOD = "day"


def _moment(value: str, field: str, *, end: bool) -> datetime:
    """An ISO-8601 date or date-time as an aware UTC datetime. A bare date is the start of that UTC
    day, or for an end the start of the next one (so `endDate=2026-01-31` includes the 31st);
    a date-time without an offset is read as UTC."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(), tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(
            f"{field} must be an ISO-8601 date or date-time (e.g. 2026-01-31 or 2026-01-31T12:00:00Z)",
            field=field,
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def window_for(
    period: str | None, start_date: str | None, end_date: str | None, now: datetime
) -> tuple[PeriodName, Window]:
    """The window a request asks for: a named period, or startDate/endDate (either may be left out:
    from the beginning, until now). Both kinds at once, or a start not before the end, are a 400."""
    if start_date is None and end_date is None:
        name = period or DEFAULT_PERIOD
        if name not in PERIODS:
            raise ValidationFailed(f"period must be one of {', '.join(PERIODS)}", field="period")
        length = PERIODS[name]
        window = Window(start=None if length is None else now - length, end=now)
        return name, window  # type: ignore[return-value]  # name is one of PERIODS, all PeriodName
    if period is not None:
        raise ValidationFailed("Give either period or startDate/endDate, not both", field="period")
    start = _moment(start_date, "startDate", end=False) if start_date is not None else None
    end = _moment(end_date, "endDate", end=True) if end_date is not None else now
    # A bare endDate already reaches the end of its day, so `2026-03-01…2026-03-01` is one day and
    # `2026-03-02…2026-03-01` an empty window: refused like any start after its end.
    if start is not None and start >= end:
        raise ValidationFailed("startDate must be before endDate", field="startDate")
    return "custom", Window(start=start, end=end)


async def system_metrics(session: AsyncSession, name: PeriodName, window: Window) -> SystemMetrics:
    """DOMAIN.md's metrics for the work submitted in `window`, with the queue as it is now."""
    figures = await repository.generation_figures(session, window)
    times = await repository.pose_times(session, window)
    queue = await repository.queue_snapshot(session)
    return SystemMetrics(
        period=name,
        start_time=window.start,
        end_time=window.end,
        total_generations=figures.total,
        active_generations=figures.active,
        completed_generations=figures.completed,
        partial_generations=figures.partial,
        failed_generations=figures.failed,
        canceled_generations=figures.canceled,
        success_rate=figures.success_rate,
        total_poses_generated=figures.poses_completed,
        avg_poses_per_generation=round(figures.poses_completed / figures.total, 2) if figures.total else None,
        avg_generation_time_ms=PoseTimesOut(
            samples=times.samples, mean=times.mean, p50=times.p50, p95=times.p95
        ),
        queue_depth=queue.depth,
        queue_waiting=queue.waiting,
        queue_active=queue.active,
        dead_poses=await repository.dead_poses(session),
        total_credits_spent=figures.credits_charged,
        total_credits_refunded=figures.credits_refunded,
        refund_rate=figures.refund_rate,
    )


async def top_users(session: AsyncSession, name: PeriodName, window: Window, limit: int) -> TopUsers:
    rows = await repository.top_users(session, window, limit)
    return TopUsers(
        period=name,
        start_time=window.start,
        end_time=window.end,
        users=[
            TopUser(
                user_id=row.user_id,
                email=row.email,
                name=row.name,
                generations=row.generations,
                poses_requested=row.poses_requested,
                poses_generated=row.poses_generated,
                credits_charged=row.credits_charged,
                credits_refunded=row.credits_refunded,
            )
            for row in rows
        ],
    )


async def popular_poses(session: AsyncSession, name: PeriodName, window: Window, limit: int) -> PopularPoses:
    rows = await repository.popular_poses(session, window, limit)
    return PopularPoses(
        period=name,
        start_time=window.start,
        end_time=window.end,
        poses=[
            PopularPose(
                pose_id=row.pose_id,
                name=row.name,
                slug=row.slug,
                category_id=row.category_id,
                generations=row.generations,
                poses_requested=row.poses_requested,
                poses_generated=row.poses_generated,
            )
            for row in rows
        ],
    )


async def errors(session: AsyncSession, name: PeriodName, window: Window) -> ErrorAnalysis:
    groups = await repository.errors_by_code(session, window)
    return ErrorAnalysis(
        period=name,
        start_time=window.start,
        end_time=window.end,
        total_failed=sum(group.count for group in groups),
        errors=[
            ErrorGroup(error_code=group.code, count=group.count, last_seen_at=group.last_seen_at)
            for group in groups
        ],
    )


# -- what observability reads (given to it by posegen/services.py; it imports no domain) ---------


async def queue_gauges(session: AsyncSession) -> tuple[QueueSnapshot, int]:
    """The queue now and the dead-lettered poses: the gauges of every `/metrics` scrape."""
    return await repository.queue_snapshot(session), await repository.dead_poses(session)


async def work_signals(
    session: AsyncSession, window_seconds: float
) -> tuple[QueueSnapshot, GenerationFigures, PoseTimes]:
    """The queue now and the work of the last `window_seconds`: what the monitor judges."""
    now = utcnow()
    window = Window(start=now - timedelta(seconds=window_seconds), end=now)
    return (
        await repository.queue_snapshot(session),
        await repository.generation_figures(session, window),
        await repository.pose_times(session, window),
    )
