"""A pose from a photo: exactly one clearly visible person, large enough, as OpenPose-18 keypoints.

The keypoints are placed on a square frame (the photo centred on a square of its longer side), the
frame library poses use, so a pose from a landscape photo keeps its proportions. BlazePose follows
one person only; to notice a second one the first is covered with the photo's border colour and the
photo is searched again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageDraw

from posegen.kit.openpose import KEYPOINT_COUNT, NECK, Point
from posegen.vision.detection import Detection, detect

# A joint counts as seen from this visibility on; weaker ones are left out of the pose.
SEEN = 0.5
# The shorter side a photo needs, in pixels, before looking for anyone in it.
MIN_PHOTO_SIDE = 128
# The person's extent (the larger of width and height of their seen joints) as a share of the photo's
# shorter side: below it the figure is too small to take a pose from.
MIN_FIGURE_SHARE = 0.35
# Seen joints a pose needs (of 18): fewer and it is mostly guesswork.
MIN_SEEN_JOINTS = 8
# A second person counts when the detector is at least this sure of them.
SECOND_PERSON_CONFIDENCE = 0.5
# How far around the first person (as a share of their extent) is covered before searching again.
COVER_MARGIN = 0.25
# Photos are searched at most this large (longer side): the detector works at 256 px anyway.
WORKING_SIDE = 1024


class PhotoProblem(StrEnum):
    """Why a photo gives no pose; the values are the API's error codes."""

    PHOTO_TOO_SMALL = "PHOTO_TOO_SMALL"
    NO_PERSON = "NO_PERSON_DETECTED"
    SEVERAL_PEOPLE = "MULTIPLE_PEOPLE_DETECTED"
    PERSON_TOO_SMALL = "PERSON_TOO_SMALL"
    POSE_UNCLEAR = "POSE_UNCLEAR"


class UnusablePhoto(Exception):
    """The photo gives no usable pose; `problem` says why, the message says it for a person."""

    def __init__(self, problem: PhotoProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.message = message


@dataclass(frozen=True)
class PhotoPose:
    """18 keypoints on the square frame: x, y in 0–1, confidence the detector's visibility; joints not
    seen are (0, 0, 0)."""

    points: tuple[Point, ...]
    confidence: float


def _seen(detection: Detection) -> list[tuple[float, float]]:
    """Seen joints in the photo's pixels."""
    return [
        (x * detection.width, y * detection.height)
        for x, y, c in detection.points
        if c >= SEEN and 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0
    ]


def _box(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _square(detection: Detection) -> tuple[Point, ...]:
    side = float(max(detection.width, detection.height))
    dx, dy = (side - detection.width) / 2, (side - detection.height) / 2
    points: list[Point] = []
    for x, y, c in detection.points:
        if c < SEEN or not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            points.append((0.0, 0.0, 0.0))
            continue
        points.append(
            (
                round((x * detection.width + dx) / side, 4),
                round((y * detection.height + dy) / side, 4),
                round(c, 3),
            )
        )
    return tuple(points)


def _second_person(image: Image.Image, box: tuple[float, float, float, float]) -> bool:
    left, top, right, bottom = box
    pad = COVER_MARGIN * max(right - left, bottom - top)
    covered = image.copy()
    fill = image.getpixel((0, 0))
    ImageDraw.Draw(covered).rectangle((left - pad, top - pad, right + pad, bottom + pad), fill=fill)
    other = detect(covered)
    if other is None or other.confidence < SECOND_PERSON_CONFIDENCE:
        return False
    seen = _seen(other)
    if len(seen) < MIN_SEEN_JOINTS:
        return False
    cx = sum(x for x, _ in seen) / len(seen)
    cy = sum(y for _, y in seen) / len(seen)
    # A "person" found inside the covered area is the detector guessing at the patch.
    return not (left - pad <= cx <= right + pad and top - pad <= cy <= bottom + pad)


def pose_from_photo(image: Image.Image) -> PhotoPose:
    """The pose of the one person in ``image``; :class:`UnusablePhoto` says why there is none.

    CPU-bound (one to four detector runs of tens of milliseconds): call it off the event loop.
    Raises :class:`~posegen.vision.detection.DetectorUnavailable` without the ``vision`` extra.
    """
    if min(image.size) < MIN_PHOTO_SIDE:
        raise UnusablePhoto(
            PhotoProblem.PHOTO_TOO_SMALL, f"The photo is too small: at least {MIN_PHOTO_SIDE} px on each side"
        )
    rgb = image.convert("RGB")
    rgb.thumbnail((WORKING_SIDE, WORKING_SIDE))
    detection = detect(rgb)
    if detection is None:
        raise UnusablePhoto(PhotoProblem.NO_PERSON, "No person was found in the photo")
    seen = _seen(detection)
    if len(seen) < MIN_SEEN_JOINTS or detection.points[NECK][2] < SEEN:
        raise UnusablePhoto(
            PhotoProblem.POSE_UNCLEAR,
            f"Too little of the person is visible: at least {MIN_SEEN_JOINTS} joints and both shoulders",
        )
    box = _box(seen)
    # Several people first: in a group photo each person is small, and "crop it to one person" is
    # the advice that helps.
    if _second_person(rgb, box):
        raise UnusablePhoto(
            PhotoProblem.SEVERAL_PEOPLE, "More than one person is in the photo: crop it to one person"
        )
    extent = max(box[2] - box[0], box[3] - box[1]) / min(rgb.size)
    if extent < MIN_FIGURE_SHARE:
        raise UnusablePhoto(
            PhotoProblem.PERSON_TOO_SMALL,
            "The person is too small in the photo: crop it or take it closer",
        )
    points = _square(detection)
    assert len(points) == KEYPOINT_COUNT
    return PhotoPose(points=points, confidence=round(detection.confidence, 3))
