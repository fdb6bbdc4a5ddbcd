"""The pose check: find the body pose in a rendered image and score how closely it follows the request.

:func:`detect` runs an offline body-pose detector (MediaPipe BlazePose, from the optional ``vision``
extra; its weights ship inside the wheel) and returns OpenPose-18 keypoints; :func:`pose_score` is an
OKS-style similarity between the requested and the detected keypoints. Importing this package never
imports the detector, so ``import posegen`` works without the extra; :func:`detector_available` says
whether :func:`detect` can run.
"""

from __future__ import annotations

from posegen.vision.detection import Detection, DetectorUnavailable, detect, detector_available, warm_up
from posegen.vision.score import (
    MIN_SHARED_JOINTS,
    SIGMAS,
    VISIBLE_CONFIDENCE,
    pose_score,
)
from posegen.vision.verdict import PoseCheck

__all__ = [
    "MIN_SHARED_JOINTS",
    "SIGMAS",
    "VISIBLE_CONFIDENCE",
    "Detection",
    "DetectorUnavailable",
    "PoseCheck",
    "detect",
    "detector_available",
    "pose_score",
    "warm_up",
]
