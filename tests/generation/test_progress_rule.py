"""The one rule for a generation's progress and time left, shared by events and answers."""

from __future__ import annotations

from posegen.generation.counting import progress_event, time_remaining


def test_time_left_is_poses_left_times_the_pace_and_unknown_without_a_pace() -> None:
    assert time_remaining(3, 1.25) == 3.8
    assert time_remaining(3, None) is None
    assert time_remaining(3, 0.0) is None  # no pose measured yet: unknown, not "no time left"
    assert time_remaining(0, 1.25) is None


def test_progress_counts_every_ended_pose_and_stops_at_the_last() -> None:
    progress = progress_event(completed=2, failed=1, canceled=1, total=8, seconds_per_pose=0.5)
    assert progress is not None
    assert (progress.completed, progress.failed, progress.total) == (2, 1, 8)
    assert progress.percentage == 50.0
    assert progress.estimated_time_remaining == 2.0
    unknown = progress_event(completed=0, failed=1, canceled=0, total=3, seconds_per_pose=None)
    assert unknown is not None and unknown.estimated_time_remaining is None
    assert progress_event(completed=2, failed=1, canceled=0, total=3, seconds_per_pose=0.5) is None
