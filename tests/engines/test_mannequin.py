"""The mannequin engine renders each variation's take: visibly different pictures of the same pose."""

from __future__ import annotations

import itertools
from functools import cache

import numpy as np
import pytest
from numpy.typing import NDArray

from posegen.engines.base import QUALITY_SIZES, BackgroundSpec, DetachedContext, RenderRequest, RenderResult
from posegen.engines.mannequin import MannequinEngine, render_sync
from posegen.generation.takes import take_pose
from posegen.imaging.look import look_for
from posegen.imaging.mannequin import render_mannequin
from posegen.imaging.variation import Take
from posegen.kit.openpose import Point
from posegen.library.poses import POSES
from posegen.vision import detect, detector_available, pose_score

BY_SLUG = {spec.slug: spec for spec in POSES}
STANDING = BY_SLUG["100-confident-power-stance"]
SEED = 4100
# A pixel counts as different when a channel moved by more than this: a visible change, not noise.
VISIBLE = 8


def request_for(number: int, size: int = 512, background: BackgroundSpec | None = None) -> RenderRequest:
    """Variation `number` of the standing pose, as submission stores it and the worker asks for it."""
    spec = STANDING
    taken = take_pose(spec.keypoints.points, spec.keypoints.depth, number, SEED + number - 1)
    return RenderRequest(
        points=[(p[0], p[1], p[2]) for p in taken.points],
        depth=taken.depth,
        pose_description="standing",
        prompt="a person standing",
        negative_prompt="",
        width=size,
        height=size,
        quality="standard",
        seed=SEED + number - 1,
        background=background,
        take=Take.from_json(taken.take.as_json()),
    )


@cache
def rendered(number: int, colour: bool = False) -> RenderResult:
    background = BackgroundSpec("solid_color", color=(200, 205, 210)) if colour else None
    return render_sync(request_for(number, background=background))


def pixels(result: RenderResult) -> NDArray[np.int32]:
    return np.asarray(result.image, dtype=np.int32)


def differing(a: RenderResult, b: RenderResult) -> NDArray[np.bool_]:
    return np.abs(pixels(a) - pixels(b)).max(axis=2) > VISIBLE  # type: ignore[no-any-return]


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(range(1, 5), 2)))
def test_two_variations_of_one_pose_differ_in_well_over_a_tenth_of_pixels(first: int, second: int) -> None:
    share = differing(rendered(first), rendered(second)).mean()
    assert share > 0.25, share


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(range(1, 5), 2)))
def test_on_a_chosen_colour_the_figures_themselves_differ(first: int, second: int) -> None:
    # The backdrop the caller chose stays exactly as asked; the difference is the figure's.
    a, b = rendered(first, colour=True), rendered(second, colour=True)
    assert a.mask is not None and b.mask is not None
    figure = (np.asarray(a.mask) > 0) | (np.asarray(b.mask) > 0)
    changed = differing(a, b)
    assert not changed[~figure].any()
    assert changed[figure].mean() > 0.6
    assert changed.mean() > 0.05


def fit_residual(points: list[Point], pixel_points: list[Point]) -> float:
    """Largest distance in pixels left after the best uniform scale and shift of `points` onto
    `pixel_points` (the present ones)."""
    shown = [i for i, p in enumerate(points) if p[2] > 0]
    source = np.array([points[i][:2] for i in shown])
    target = np.array([pixel_points[i][:2] for i in shown])
    centred = source - source.mean(axis=0)
    scale = float((centred * (target - target.mean(axis=0))).sum() / (centred**2).sum())
    fitted = centred * scale + target.mean(axis=0)
    return float(np.linalg.norm(fitted - target, axis=1).max())


@pytest.mark.parametrize("number", range(1, 5))
def test_each_variation_shows_its_own_takes_keypoints(number: int) -> None:
    request, result = request_for(number), rendered(number)
    assert result.pixel_points is not None and result.mask is not None
    pixel_points = list(result.pixel_points)
    # The figure is placed by a uniform scale and shift of the take's keypoints ...
    assert fit_residual(list(request.points), pixel_points) < 0.5
    # ... which are not the library's (except for the canonical variation 1) ...
    library = fit_residual(list(STANDING.keypoints.points), pixel_points)
    assert library < 0.5 if number == 1 else library > 3
    # ... and every joint lies on the drawn figure.
    mask = np.asarray(result.mask)
    for x, y, c in pixel_points:
        if c > 0:
            assert mask[int(y), int(x)] == 255


@pytest.mark.skipif(not detector_available(), reason="the pose check needs the `vision` extra")
@pytest.mark.parametrize("number", range(1, 5))
def test_the_pose_check_finds_each_variations_take(number: int) -> None:
    request, result = request_for(number), rendered(number)
    detection = detect(result.image)
    assert detection is not None
    score = pose_score(request.points, detection.points)
    assert score is not None and score >= 0.8, score


def test_variation_one_is_reproducible_and_canonical() -> None:
    request = request_for(1)
    first, second = render_sync(request), render_sync(request)
    assert first.image.tobytes() == second.image.tobytes()
    assert list(request.points) == list(STANDING.keypoints.points)
    plain = render_mannequin(
        request.points, request.depth, 512, 512, seed=request.seed, look=look_for(request.avatar)
    )
    assert first.image.tobytes() == plain.image.tobytes()
    assert first.pixel_points == plain.transform.apply(request.points)


async def test_the_engine_renders_every_quality_at_its_size_and_says_what_it_gives() -> None:
    engine = MannequinEngine()
    notes = engine.quality_notes()
    assert set(notes) == set(engine.qualities)
    assert "2.25×" in notes["pro"] and "quarter" in notes["draft"]
    for quality in ("draft", "pro"):
        size = QUALITY_SIZES[quality]
        base = request_for(2)
        request = RenderRequest(**{**base.__dict__, "width": size, "height": size, "quality": quality})
        result = await engine.render(request, DetachedContext())
        assert result.image.size == (size, size)
    assert QUALITY_SIZES == {"draft": 512, "standard": 1024, "pro": 1536}
