"""Each variation of a pose as its own take (`posegen.imaging.variation`), applied once, at submission.

The take's keypoints are what the variation's row keeps: every engine draws them (the control map
follows them) and the pose check expects them, so a variation is checked against the pose it was
asked to show. Variation 1 is the canonical take and keeps the library keypoints unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from posegen.imaging.variation import Take, take_for, take_keypoints
from posegen.kit.openpose import Point
from posegen.library.keypoint_checks import plausibility_problems

# A take whose keypoints break a plausibility rule the pose itself passes turns and swings half as
# far, up to this many times; then it keeps only its framing and light.
_SOFTENINGS = 3


@dataclass(frozen=True)
class TakenPose:
    """A variation's keypoints and depths as its take shows them, and the take."""

    points: list[list[float]]
    depth: list[float]
    take: Take

    def stored(self) -> dict[str, object]:
        """The row's `keypoints` JSON: OpenPose-18 points, depths and the take they show."""
        take = self.take.as_json()
        return {"format": "openpose-18", "points": self.points, "depth": self.depth, "take": take}


def take_pose(points: Sequence[Sequence[float]], depth: Sequence[float], number: int, seed: int) -> TakenPose:
    """Variation ``number`` (1-based) of the pose, seeded by the variation's own ``seed``.

    The result never breaks a plausibility rule (`library.keypoint_checks`) that the pose passes.
    """
    source: list[Point] = [(float(p[0]), float(p[1]), float(p[2])) for p in points]
    allowed = len(plausibility_problems(source))
    take = take_for(number, seed)
    for _ in range(_SOFTENINGS):
        moved, moved_depth = take_keypoints(source, depth, take)
        if len(plausibility_problems(moved)) <= allowed:
            return TakenPose([list(p) for p in moved], moved_depth, take)
        take = replace(take, yaw=take.yaw / 2, swing=take.swing / 2)
    # Framing is a uniform scale and a slide, which no bone-length rule can tell from the pose.
    take = replace(take, yaw=0.0, swing=0.0)
    moved, moved_depth = take_keypoints(source, depth, take)
    return TakenPose([list(p) for p in moved], moved_depth, take)
