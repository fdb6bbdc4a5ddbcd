"""Counting a completed pose on its generation row: the counters, the sequence numbers of its events
and the row lock, in one UPDATE (`outcomes.complete`); and the one rule for a generation's progress
and the time it has left (`progress_event`, `time_remaining`), for events and answers alike."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.generation.event_kinds import GenerationProgress
from posegen.generation.models import Generation


@dataclass(frozen=True)
class Counted:
    """A generation's counters after a completion was counted, and the first sequence number its
    events got (the completion's, then the progress event's unless this pose was the last)."""

    completed: int
    failed: int
    canceled: int
    total: int
    first_seq: int

    def progress(self, seconds_per_pose: float | None) -> GenerationProgress | None:
        return progress_event(self.completed, self.failed, self.canceled, self.total, seconds_per_pose)


def time_remaining(remaining: int, seconds_per_pose: float | None) -> float | None:
    """Seconds left: poses left × the pace (seconds per pose), to 0.1 s; None while the pace is
    unknown or nothing is left."""
    if not seconds_per_pose or remaining <= 0:
        return None
    return round(remaining * seconds_per_pose, 1)


def progress_event(
    completed: int, failed: int, canceled: int, total: int, seconds_per_pose: float | None
) -> GenerationProgress | None:
    """The progress of a generation with these counters, or None once every pose has ended (the
    final status says the rest)."""
    done = completed + failed + canceled
    if done >= total:
        return None
    return GenerationProgress(
        completed=completed,
        failed=failed,
        total=total,
        percentage=round(100 * done / total, 2),
        estimated_time_remaining=time_remaining(total - done, seconds_per_pose),
    )


async def count_completion(session: AsyncSession, generation_id: str) -> Counted | None:
    """Count one completed pose and reserve its events' sequence numbers (two, or one for the last
    pose, whose final event `finalize` adds) in one UPDATE that also locks the row; None when the
    generation is gone or its cancel was requested."""
    done = Generation.poses_completed + 1 + Generation.poses_failed + Generation.poses_canceled
    reserved = 1 + case((done < Generation.total_expected, 1), else_=0)
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation_id, Generation.cancel_requested.is_(False))
        .values(poses_completed=Generation.poses_completed + 1, last_seq=Generation.last_seq + reserved)
        .returning(
            Generation.poses_completed,
            Generation.poses_failed,
            Generation.poses_canceled,
            Generation.total_expected,
            Generation.last_seq,
        )
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        return None
    completed, failed, canceled, total, last_seq = row
    reserved_now = 1 if completed + failed + canceled >= total else 2
    return Counted(completed, failed, canceled, total, last_seq - reserved_now + 1)
