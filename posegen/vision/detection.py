"""Body-pose detection with MediaPipe BlazePose, reported as OpenPose-18 keypoints.

The detector is the legacy ``mediapipe.solutions.pose`` graph at model complexity 1 ("full"): its two
TFLite models (person detector and landmark model) are files inside the ``mediapipe`` package, so
nothing is downloaded, ever (complexities 0 and 2 would fetch their models on first use, and the
``mediapipe.tasks`` PoseLandmarker needs a ``.task`` bundle the wheel does not ship). The graph runs
in static-image mode: every call detects afresh, with no tracking or smoothing between calls, so the
same image always gives the same keypoints. A figure that fills the frame is often missed by the
person detector, so when nobody is found the image is tried again with a wider border around it.

The graph follows one person, the most prominent; :attr:`Detection.people` is therefore ``None``
(not counted) rather than a number this detector cannot give.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from posegen.kit.openpose import (
    KEYPOINT_COUNT,
    L_ANKLE,
    L_EAR,
    L_ELBOW,
    L_EYE,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    NECK,
    NOSE,
    R_ANKLE,
    R_EAR,
    R_ELBOW,
    R_EYE,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    Point,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

# OpenPose-18 index → BlazePose landmark index (the 33-point topology). Both name sides from the
# person's point of view. The neck has no BlazePose landmark: it is the midpoint of the shoulders.
BLAZEPOSE_INDEX: dict[int, int] = {
    NOSE: 0,
    R_EYE: 5,
    L_EYE: 2,
    R_EAR: 8,
    L_EAR: 7,
    R_SHOULDER: 12,
    L_SHOULDER: 11,
    R_ELBOW: 14,
    L_ELBOW: 13,
    R_WRIST: 16,
    L_WRIST: 15,
    R_HIP: 24,
    L_HIP: 23,
    R_KNEE: 26,
    L_KNEE: 25,
    R_ANKLE: 28,
    L_ANKLE: 27,
}
# The landmark model's complexity whose weights ship in the wheel ("full"); see the module docstring.
_MODEL_COMPLEXITY = 1
# The image as it is, then (only while nobody is found) centred on a canvas 1.5 and 2 times its size:
# the person detector expects room around a figure, and misses some that fill the frame.
_ATTEMPTS = (1.0, 1.5, 2.0)
# The person detector's own threshold: below it the graph reports no pose at all.
MIN_DETECTION_CONFIDENCE = 0.5


class DetectorUnavailable(RuntimeError):
    """The detector's package is not installed: install posegen with the ``vision`` extra."""


@dataclass(frozen=True)
class Detection:
    """One detected person.

    ``points`` are 18 OpenPose keypoints: x as a fraction of the image width, y of its height (so on a
    non-square image the two axes have different units, see :attr:`aspect`), confidence the
    detector's visibility of that joint (0–1). A joint the detector places beyond the frame keeps its
    coordinates (outside 0–1) with the low visibility BlazePose gives it. The neck is the midpoint of
    the shoulders with the lower of their two visibilities. ``confidence`` is the mean visibility of
    the 17 joints BlazePose names, so a crop that leaves joints out of the frame lowers it. ``people``
    is how many people the detector found, or None where it does not count them (BlazePose follows
    only the most prominent one).
    """

    points: tuple[Point, ...]
    width: int
    height: int
    confidence: float
    people: int | None = None

    @property
    def aspect(self) -> float:
        """Width over height: the factor that puts x into the units of y (``pose_score(aspect=…)``)."""
        return self.width / self.height


def detector_available() -> bool:
    """Whether :func:`detect` can run here (the ``vision`` extra is installed)."""
    try:
        _load_solution()
    except DetectorUnavailable:
        return False
    return True


def warm_up() -> bool:
    """Build the detector graph now (about a second), so the first detection does not wait for it;
    False without the extra. Blocking: call it off the event loop."""
    try:
        _graph()
    except DetectorUnavailable:
        return False
    return True


def detect(image: Image.Image) -> Detection | None:
    """The body pose of the most prominent person in ``image``, or None when the detector finds nobody.

    CPU-bound (tens of milliseconds at 512 px): call it off the event loop. Thread-safe: calls are
    serialised on one detector graph, built on first use (about a second). Deterministic: the same
    pixels always give the same result. Raises :class:`DetectorUnavailable` without the extra.
    """
    rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    graph = _graph()
    for factor in _ATTEMPTS:
        pixels, (left, top) = _padded(rgb, factor)
        with _lock:
            result = graph.process(pixels)
        landmarks = getattr(result, "pose_landmarks", None)
        if landmarks is None:
            continue
        height, width = pixels.shape[:2]
        marks = [
            (
                (float(m.x) * width - left) / image.width,
                (float(m.y) * height - top) / image.height,
                _visibility(m.visibility),
            )
            for m in landmarks.landmark
        ]
        return _to_openpose(marks, image.width, image.height)
    return None


def _padded(rgb: np.ndarray[Any, np.dtype[np.uint8]], factor: float) -> tuple[Any, tuple[int, int]]:
    """The image centred on a canvas ``factor`` times its size, filled with its mean border colour,
    and the image's offset on that canvas (no copy for factor 1)."""
    if factor == 1.0:
        return rgb, (0, 0)
    height, width = rgb.shape[:2]
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    fill = border.mean(axis=0).round().astype(np.uint8)
    canvas = np.empty((round(height * factor), round(width * factor), 3), dtype=np.uint8)
    canvas[:] = fill
    top, left = (canvas.shape[0] - height) // 2, (canvas.shape[1] - width) // 2
    canvas[top : top + height, left : left + width] = rgb
    return canvas, (left, top)


def _to_openpose(marks: Sequence[tuple[float, float, float]], width: int, height: int) -> Detection:
    """OpenPose-18 from BlazePose's 33 (x, y, visibility) landmarks, normalised to the image."""
    points: list[Point] = [(0.0, 0.0, 0.0)] * KEYPOINT_COUNT
    for openpose, blaze in BLAZEPOSE_INDEX.items():
        points[openpose] = marks[blaze]
    right, left = points[R_SHOULDER], points[L_SHOULDER]
    points[NECK] = ((right[0] + left[0]) / 2, (right[1] + left[1]) / 2, min(right[2], left[2]))
    confidence = sum(marks[blaze][2] for blaze in BLAZEPOSE_INDEX.values()) / len(BLAZEPOSE_INDEX)
    return Detection(points=tuple(points), width=width, height=height, confidence=confidence)


def _visibility(value: float) -> float:
    # The landmark model's visibility is a sigmoid output; clamp away float noise at its ends.
    return min(1.0, max(0.0, float(value)))


_lock = threading.Lock()
_solution: Any = None


def _load_solution() -> Any:
    """The ``mediapipe.solutions.pose`` module, imported only when a detection is asked for."""
    try:
        # Imported here, not at the top: the extra is optional and the import takes about a second.
        from mediapipe.python.solutions import pose
    except ImportError as error:
        # The cause is kept in the message: besides a missing extra, OpenCV (a mediapipe dependency)
        # fails to import on a system without libGL (Debian: libgl1).
        raise DetectorUnavailable(
            f"the pose check needs MediaPipe (install posegen with the `vision` extra): {error}"
        ) from error
    return pose


def _graph() -> Any:
    """The process's one detector graph, built on first use."""
    global _solution  # one graph per process, built lazily because building it takes a second
    with _lock:
        if _solution is None:
            pose = _load_solution()
            _solution = pose.Pose(
                static_image_mode=True,
                model_complexity=_MODEL_COMPLEXITY,
                enable_segmentation=False,
                min_detection_confidence=MIN_DETECTION_CONFIDENCE,
            )
        return _solution
