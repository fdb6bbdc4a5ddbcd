"""Errors of poses from photos: the detector missing, and photos that give no pose."""

from __future__ import annotations

from typing import ClassVar

from posegen.errors import PosegenError, ServiceUnavailable
from posegen.vision.photo import PhotoProblem


class PoseDetectionUnavailable(ServiceUnavailable):
    """The server has no pose detector (posegen installed without the `vision` extra)."""

    code = "POSE_DETECTION_UNAVAILABLE"


class UnusablePhoto(PosegenError):
    """400 with the problem as the code (`NO_PERSON_DETECTED`, `MULTIPLE_PEOPLE_DETECTED`, …): the
    service documents no 422 (its validation errors are 400 too)."""

    status: ClassVar[int] = 400

    def __init__(self, problem: PhotoProblem, message: str) -> None:
        super().__init__(message, field="uploadId", details={"problem": problem.value})
        # The code names the problem; the class is one for all of them (their handling is the same).
        self.code = problem.value  # type: ignore[misc]  # a per-instance code on purpose
