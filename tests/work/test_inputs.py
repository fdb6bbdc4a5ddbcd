"""The render request of a variation: the take's keypoints and take, for every engine."""

from __future__ import annotations

from PIL import ImageChops

from posegen.engines.base import control_image
from posegen.generation.models import GeneratedPose, Generation
from posegen.generation.takes import take_pose
from posegen.imaging.control_map import render_control_map
from posegen.imaging.variation import CANONICAL
from posegen.library.poses import POSES
from posegen.work.inputs import render_request

SPEC = next(spec for spec in POSES if spec.slug == "warrior-ii")


def request_of(number: int, keypoints: dict[str, object] | None = None) -> tuple[GeneratedPose, Generation]:
    taken = take_pose(SPEC.keypoints.points, SPEC.keypoints.depth, number, 50 + number)
    pose = GeneratedPose(
        keypoints=keypoints or taken.stored(), prompt_used="a pose", seed=50 + number, width=512, height=512
    )
    return pose, Generation(quality="standard")


def test_a_variation_asks_every_engine_for_its_takes_keypoints() -> None:
    pose, generation = request_of(2)
    request = render_request(pose, generation, None, None)
    taken = take_pose(SPEC.keypoints.points, SPEC.keypoints.depth, 2, 52)
    assert [list(point) for point in request.points] == taken.points
    assert list(request.depth) == taken.depth
    assert request.take == taken.take and not request.take.canonical
    # The control map a pose-conditioned engine receives is the take's, not the library pose's.
    own = render_control_map([(x, y, c) for x, y, c in taken.points], 512, 512)
    library = render_control_map(SPEC.keypoints.points, 512, 512)
    assert ImageChops.difference(control_image(request), own).getbbox() is None
    assert ImageChops.difference(control_image(request), library).getbbox() is not None


def test_rows_stored_before_takes_render_the_canonical_take() -> None:
    stored: dict[str, object] = {"format": "openpose-18", "points": [list(p) for p in SPEC.keypoints.points]}
    pose, generation = request_of(1, stored)
    request = render_request(pose, generation, None, None)
    assert request.take == CANONICAL
    assert list(request.depth) == [0.0] * len(SPEC.keypoints.points)
