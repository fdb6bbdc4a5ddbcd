"""The pose check's verdicts on a finished image, as the pose row, the API and events carry them."""

from __future__ import annotations

from enum import StrEnum


class PoseCheck(StrEnum):
    """What the pose check concluded about a rendered image (posegen/work/pose_check.py). A pose that
    was never checked (finished before the check existed, or failed before it had an image) has none."""

    PASSED = "passed"  # scored at least the minimum
    FAILED = "failed"  # scored below it, with a confident detection, after its free re-renders
    INCONCLUSIVE = "inconclusive"  # no verdict: nobody found, an unsure detection, or an exact engine
    SKIPPED = "skipped"  # the check did not run (switched off, the `vision` extra missing, an error)
