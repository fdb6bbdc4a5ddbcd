"""Keypoints from clients: 18 normalised points or OpenPose/DWPose/ComfyUI JSON."""

from __future__ import annotations

import pytest

from posegen.errors import ValidationFailed
from posegen.library.keypoint_import import ABSENT, from_points, from_pose_json
from tests.fixtures.factories import STANDING


def test_points_are_validated_and_absent_points_zeroed() -> None:
    raw = [list(point) for point in STANDING]
    raw[10] = [0.7, 0.9, 0.0]
    points = from_points(raw)
    assert points[10] == ABSENT
    assert points[0] == (0.5, 0.15, 1.0)
    with pytest.raises(ValidationFailed, match="18 points"):
        from_points(raw[:17])
    with pytest.raises(ValidationFailed, match="within 0–1"):
        from_points([[1.5, 0.2, 1.0], *raw[1:]])
    with pytest.raises(ValidationFailed, match="neck"):
        from_points([raw[0], [0, 0, 0], *raw[2:]])
    with pytest.raises(ValidationFailed, match="numbers"):
        from_points([[0.5, float("nan"), 1.0], *raw[1:]])


def test_coco18_pixels_on_a_non_square_canvas() -> None:
    width, height = 512, 768
    flat: list[float] = []
    for x, y, c in STANDING:
        flat += [x * width, y * height, c * 0.9]
    points = from_pose_json(
        {"canvas_width": width, "canvas_height": height, "people": [{"pose_keypoints_2d": flat}]}
    )
    # Placed centred on a 768² canvas: x shifts by 128 px, y is unchanged.
    assert points[1] == pytest.approx((0.5, 0.25, 1.0))
    assert points[2][0] == pytest.approx((0.42 * 512 + 128) / 768)


def test_body25_is_mapped_to_coco18() -> None:
    body25 = [[0.0, 0.0, 0.0] for _ in range(25)]
    coco_to_body25 = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
    for coco, b25 in enumerate(coco_to_body25):
        body25[b25] = list(STANDING[coco])
    body25[8] = [0.5, 0.52, 1.0]  # mid-hip, which COCO-18 does not have
    flat = [value for triple in body25 for value in triple]
    points = from_pose_json({"people": [{"pose_keypoints_2d": flat}]})
    assert [list(point) for point in points] == [[float(v) for v in p] for p in STANDING]


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"people": []},
        {"people": [{"pose_keypoints_2d": [1, 2, 3]}]},
        {"people": [{"pose_keypoints_2d": ["a"] * 54}]},
        {"people": [{"pose_keypoints_2d": [300.0, 200.0, 1.0] * 18}]},  # pixels without a canvas size
    ],
)
def test_bad_pose_json_is_refused(document: dict[str, object]) -> None:
    with pytest.raises(ValidationFailed):
        from_pose_json(document)
