"""Keypoints the imaging tests draw: a helper to write them, and a standing figure."""

from __future__ import annotations

from posegen.kit.openpose import Point

ABSENT: Point = (0.0, 0.0, 0.0)


def pose(**named: tuple[float, float]) -> list[Point]:
    """18 keypoints from ``k<index>=(x, y)`` arguments; the rest absent."""
    points = [ABSENT] * 18
    for key, (x, y) in named.items():
        points[int(key[1:])] = (x, y, 1.0)
    return points


STANDING = pose(
    k0=(0.5, 0.16), k1=(0.5, 0.26), k2=(0.41, 0.27), k3=(0.38, 0.40), k4=(0.37, 0.52),
    k5=(0.59, 0.27), k6=(0.62, 0.40), k7=(0.63, 0.52), k8=(0.45, 0.52), k9=(0.45, 0.69),
    k10=(0.45, 0.86), k11=(0.55, 0.52), k12=(0.55, 0.69), k13=(0.55, 0.86), k14=(0.48, 0.145),
    k15=(0.52, 0.145), k16=(0.46, 0.155), k17=(0.54, 0.155),
)  # fmt: skip
