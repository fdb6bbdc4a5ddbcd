"""The curated pose library: every pose with its catalogue text and keypoints.

Poses are defined per root category (one module each) from named body angles, see
`posegen.library.skeleton.BodyPose`; `POSES` lists them all in a stable order.
"""

from __future__ import annotations

from posegen.library.poses import casual, ecommerce, fashion, hijab, professional, sports
from posegen.library.poses._spec import PoseSpec

__all__ = ["POSES", "PoseSpec"]

POSES: tuple[PoseSpec, ...] = (
    *professional.POSES,
    *ecommerce.POSES,
    *fashion.POSES,
    *hijab.POSES,
    *casual.POSES,
    *sports.POSES,
)
