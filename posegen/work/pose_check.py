"""The pose check of a finished render: detect the body, score it against the request, re-render free.

Once per rendered pose image, before its files are made and stored (the pipeline's `_finish`), the
detector (`posegen.vision`, BlazePose from the optional ``vision`` extra) finds the figure's OpenPose-18
keypoints in a thread and :func:`posegen.vision.pose_score` compares them with the requested ones:

- ``passed``: the score reaches ``POSEGEN_QUALITY_MIN_POSE_SCORE``;
- ``failed``: it does not, and the detection is *confident* (its mean joint visibility reaches
  ``POSEGEN_QUALITY_MIN_DETECTOR_CONFIDENCE``) — the engine drew another pose;
- ``inconclusive``: no verdict — nobody found, fewer than five joints to compare, an unsure
  detection below the minimum, or an engine that draws the pose exactly (`Engine.draws_pose_exactly`,
  the mannequin) below the minimum: its figure is the requested keypoints by construction, so the
  detector missed it (B12's tail: floor poses, head-and-shoulders crops);
- ``skipped``: the check did not run (``POSEGEN_QUALITY_POSE_CHECK=false``, an engine that draws no
  figure (`Engine.draws_figure`: the `sleep` engine), the extra missing, or a detector error, logged).

A failed image is rendered again with a new seed, at no charge (within the same attempt: no ledger
row), up to ``POSEGEN_QUALITY_MAX_RERENDERS`` times; the first image that does not fail is delivered.
If every one fails, the best-scoring is delivered flagged (``failed``), or with
``POSEGEN_QUALITY_ON_FAILED_CHECK=refund`` the pose fails with ``POSE_CHECK_FAILED`` and is refunded
by the usual failure path (:class:`PoseCheckFailed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import structlog

from posegen.config import QualitySettings
from posegen.engines.base import (
    DetachedContext,
    Engine,
    EngineError,
    ErrorCode,
    RenderRequest,
    RenderResult,
)
from posegen.kit.openpose import Point
from posegen.vision import DetectorUnavailable, PoseCheck, detect, pose_score, warm_up
from posegen.work.side_threads import SideThreads

log = structlog.get_logger(__name__)

KEYPOINT_FORMAT = "openpose-18"
# Seeds are stored as 32-bit integers; a re-render's seed steps by a large prime within that range.
_SEED_RANGE = 2**31 - 1
_SEED_STEP = 1_000_003


@dataclass(frozen=True)
class Verdict:
    """The check of one image: its verdict, score (None when none was computed) and the detected
    keypoints (None when nobody was found)."""

    check: PoseCheck
    score: float | None = None
    keypoints: tuple[Point, ...] | None = None


SKIPPED = Verdict(PoseCheck.SKIPPED)


@dataclass(frozen=True)
class Checked:
    """The image to deliver, its check, and what the pose row stores of it."""

    result: RenderResult
    verdict: Verdict
    seed: int  # the seed of the delivered image (a re-render's new seed)
    rerenders: int = 0

    def fields(self) -> dict[str, Any]:
        """The pose row's columns for this check (and the seed that reproduces the image)."""
        keypoints = self.verdict.keypoints
        return {
            "pose_score": None if self.verdict.score is None else round(self.verdict.score, 4),
            "pose_check": self.verdict.check.value,
            "detected_keypoints": None
            if keypoints is None
            else {
                "format": KEYPOINT_FORMAT,
                "points": [[round(x, 4), round(y, 4), round(c, 3)] for x, y, c in keypoints],
            },
            "rerenders": self.rerenders,
            "seed": self.seed,
        }


class PoseCheckFailed(EngineError):
    """Every render of the pose failed its check and the setting refunds it: the pose fails for good
    (not retried) and its check is stored with the failure."""

    def __init__(self, checked: Checked) -> None:
        score = checked.verdict.score
        super().__init__(
            ErrorCode.POSE_CHECK_FAILED,
            f"the image did not show the requested pose (score {score:.2f} after "
            f"{checked.rerenders} re-render(s))"
            if score is not None
            else "the image did not show the requested pose",
            retryable=False,
        )
        self.checked = checked


def requested_in_image(request: RenderRequest, result: RenderResult) -> list[Point]:
    """The requested keypoints as fractions of the rendered image: where the engine says it drew them
    (`RenderResult.pixel_points`), else where the control map puts them (stretched to the image)."""
    if result.pixel_points is not None:
        width, height = result.image.size
        return [(x / width, y / height, c) for x, y, c in result.pixel_points]
    return list(request.points)


def judge(request: RenderRequest, result: RenderResult, quality: QualitySettings, exact: bool) -> Verdict:
    """The check of one image (CPU-bound, tens of milliseconds: run it in a thread)."""
    try:
        detection = detect(result.image)
    except DetectorUnavailable as error:
        _warn_unavailable(str(error))
        return SKIPPED
    except Exception:
        # The check must never lose a render: a detector error is logged and the image delivered.
        log.exception("pose_check_error")
        return SKIPPED
    if detection is None:
        return Verdict(PoseCheck.INCONCLUSIVE)
    points = tuple(detection.points)
    score = pose_score(requested_in_image(request, result), points, aspect=detection.aspect)
    if score is None:
        return Verdict(PoseCheck.INCONCLUSIVE, None, points)
    if score >= quality.min_pose_score:
        return Verdict(PoseCheck.PASSED, score, points)
    confident = detection.confidence >= quality.min_detector_confidence
    return Verdict(PoseCheck.FAILED if confident and not exact else PoseCheck.INCONCLUSIVE, score, points)


@cache
def _warn_unavailable(reason: str) -> None:
    """Say once per process (per reason) that the check cannot run here."""
    log.warning("pose_check_unavailable", reason=reason)


def rerender_seed(seed: int, rerender: int) -> int:
    """The seed of re-render number `rerender` (1, 2, …) of an image rendered with `seed`."""
    return (seed + rerender * _SEED_STEP) % _SEED_RANGE


async def warm(engines: Iterable[Engine], quality: QualitySettings, threads: SideThreads) -> None:
    """Build the detector before the first check needs it, when checks will run: switched on and an
    engine that draws a figure. Without it the first finisher of a fresh worker waits about a
    second for the graph while holding its lease."""
    if not quality.pose_check or not any(engine.draws_figure for engine in engines):
        return
    started = time.perf_counter()
    if await threads.run(warm_up):
        log.info("pose_detector_ready", seconds=round(time.perf_counter() - started, 2))


async def check(
    engine: Engine,
    request: RenderRequest,
    result: RenderResult,
    quality: QualitySettings,
    checkpoint: Callable[[], None],
    threads: SideThreads,
) -> Checked:
    """Check `result` and re-render while it fails (see the module docstring); the image to deliver
    and its check, or :class:`PoseCheckFailed` when it still fails and the setting refunds.
    `checkpoint` raises when the job must stop (cancelled, lease lost); it is called before each
    re-render and after it. Detection runs in one of `threads`.

    A re-render runs outside the job's render context: nothing it might submit remotely is
    remembered on the pose (the first render's remote job stays the one a retry re-attaches to), and
    a re-render that raises ends the loop with the images already checked."""
    if not quality.pose_check or not engine.draws_figure:
        return Checked(result, SKIPPED, request.seed)
    exact = engine.draws_pose_exactly
    verdict = await threads.run(judge, request, result, quality, exact)
    tried: list[tuple[Verdict, RenderResult, int]] = [(verdict, result, request.seed)]
    while verdict.check is PoseCheck.FAILED and len(tried) <= quality.max_rerenders:
        checkpoint()
        seed = rerender_seed(request.seed, len(tried))
        again = replace(request, seed=seed)
        try:
            result = await engine.render(again, DetachedContext())
        except EngineError as error:
            log.warning("pose_rerender_failed", code=error.code.value, rerender=len(tried))
            break
        checkpoint()
        verdict = await threads.run(judge, again, result, quality, exact)
        tried.append((verdict, result, seed))
    rerenders = len(tried) - 1
    if verdict.check is not PoseCheck.FAILED:
        return Checked(result, verdict, tried[-1][2], rerenders)
    best, image, seed = max(tried, key=lambda entry: _rank(entry[0]))
    checked = Checked(image, best, seed, rerenders)
    if quality.on_failed_check == "refund":
        raise PoseCheckFailed(checked)
    return checked


def _rank(verdict: Verdict) -> float:
    return -1.0 if verdict.score is None else verdict.score
