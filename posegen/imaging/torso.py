"""The mannequin's trunk: chest, abdomen and pelvis around the neck, shoulder and hip keypoints.

Shoulder and hip widths and the trunk's thickness follow the avatar's :class:`~posegen.imaging.look.Figure`;
the keypoints stay where they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from posegen.imaging.look import Figure
from posegen.imaging.parts import LAYER_ABDOMEN, LAYER_CHEST, LAYER_PELVIS, BodyPart, Circle
from posegen.imaging.vectors import XY, add, lerp, mean, norm, scaled, sub, unit_vector
from posegen.kit.openpose import L_HIP, L_SHOULDER, NECK, R_HIP, R_SHOULDER

PointLookup = Callable[[int], XY | None]
TORSO_LENGTH = 2.4  # neck keypoint to mid-hip, body units


@dataclass(frozen=True)
class Torso:
    parts: tuple[BodyPart, ...]
    down: XY  # unit vector along the spine, neck towards pelvis
    top: XY | None
    bottom: XY | None
    half_shoulder: float
    # Signed shoulder spread across the spine in body units: positive when the figure's left shoulder
    # is on the side a figure facing the viewer has it, negative when the back is turned.
    spread: float = 0.0


def torso(at: PointLookup, u: float, figure: Figure, back: XY | None = None) -> Torso:
    """The trunk's parts; ``back`` (a unit vector, in side views) is where a stoop rounds the back."""
    neck = at(NECK)
    shoulders = [p for p in (at(R_SHOULDER), at(L_SHOULDER)) if p is not None]
    hips = [p for p in (at(R_HIP), at(L_HIP)) if p is not None]
    top = neck if neck is not None else (mean(shoulders) if shoulders else None)
    bottom = mean(hips) if hips else None

    rs, ls = at(R_SHOULDER), at(L_SHOULDER)
    if top is not None and bottom is not None:
        down = unit_vector(sub(bottom, top), (0.0, 1.0))
    elif rs is not None and ls is not None:
        # Perpendicular to the shoulder line, on the side that points down the image.
        across = unit_vector(sub(ls, rs), (1.0, 0.0))
        down = (-across[1], across[0]) if across[0] >= 0 else (across[1], -across[0])
    else:
        down = (0.0, 1.0)
    if top is None and bottom is None:
        return Torso((), down, None, None, 0.0)

    # ``side`` points from the figure's right to its left (image right for a figure facing the viewer).
    side = (down[1], -down[0])
    spread = 0.0
    if rs is not None and ls is not None:
        d = sub(ls, rs)
        spread = (d[0] * side[0] + d[1] * side[1]) / u

    def half_width(right: XY | None, left: XY | None, minimum: float) -> XY:
        # Seen from the side, a pair of joints overlap; the torso keeps its depth as a minimum width.
        if right is not None and left is not None:
            half = scaled(sub(left, right), 0.5)
            if norm(half) >= minimum:
                return half
            return scaled(unit_vector(half, side), minimum)
        return scaled(side, minimum)

    half_s = half_width(rs, ls, 0.5 * u)
    half_h = half_width(at(R_HIP), at(L_HIP), 0.42 * u)
    drawn_s, drawn_h = scaled(half_s, figure.shoulders), scaled(half_h, figure.hips)
    t, w = figure.torso, figure.waist
    parts: list[BodyPart] = []
    if top is not None:
        shoulder_mid = mean([rs, ls]) if rs is not None and ls is not None else top
        length = norm(sub(bottom, top)) if bottom is not None else TORSO_LENGTH * u
        length = max(length, 1.2 * u)

        def axis_at(f: float) -> XY:
            return add(shoulder_mid, scaled(down, length * f))

        rib_half = lerp(drawn_s, drawn_h, 0.5)
        chest = [
            Circle(*add(top, scaled(down, -0.04 * u)), 0.24 * u * t),
            Circle(*add(axis_at(0.1), scaled(drawn_s, 0.78)), 0.26 * u * t),
            Circle(*add(axis_at(0.1), scaled(drawn_s, -0.78)), 0.26 * u * t),
            Circle(*add(axis_at(0.42), scaled(rib_half, 0.62)), 0.3 * u * t),
            Circle(*add(axis_at(0.42), scaled(rib_half, -0.62)), 0.3 * u * t),
        ]
        if back is not None and figure.stoop > 0:
            # A rounded upper back: the hull bulges behind the shoulder blades.
            chest.append(Circle(*add(axis_at(0.18), scaled(back, 0.22 * u * figure.stoop)), 0.3 * u * t))
        parts.append(
            BodyPart(
                "chest", tuple(chest), (NECK, R_SHOULDER, L_SHOULDER), LAYER_CHEST, "top", cylindrical=False
            )
        )
        parts.extend(_front_or_back(top, down, length, spread, u))
        waist_half = scaled(lerp(drawn_s, drawn_h, 0.7), 0.45 * w)
        r = 0.3 * u * t * (1 + (w - 1) * 0.6)
        abdomen = (
            Circle(*add(axis_at(0.55), waist_half), r),
            Circle(*add(axis_at(0.55), scaled(waist_half, -1)), r),
            Circle(*add(axis_at(0.78), waist_half), r),
            Circle(*add(axis_at(0.78), scaled(waist_half, -1)), r),
        )
        parts.append(
            BodyPart(
                "abdomen",
                abdomen,
                (NECK, R_SHOULDER, L_SHOULDER, R_HIP, L_HIP),
                LAYER_ABDOMEN,
                "top",
                cylindrical=False,
            )
        )
    if bottom is not None:
        r = 0.3 * u * (t * figure.hips) ** 0.5
        pelvis = (
            Circle(*add(add(bottom, scaled(down, -0.22 * u)), scaled(drawn_h, 0.85)), r),
            Circle(*add(add(bottom, scaled(down, -0.22 * u)), scaled(drawn_h, -0.85)), r),
            Circle(*add(bottom, scaled(drawn_h, 0.95)), r),
            Circle(*add(bottom, scaled(drawn_h, -0.95)), r),
            Circle(*add(bottom, scaled(down, 0.38 * u)), 0.26 * u * t),
        )
        parts.append(BodyPart("pelvis", pelvis, (R_HIP, L_HIP), LAYER_PELVIS, "bottom", cylindrical=False))
    return Torso(tuple(parts), down, top, bottom, norm(half_s) / u, spread)


def _front_or_back(top: XY, down: XY, length: float, spread: float, u: float) -> list[BodyPart]:
    """What tells the front from the back: a neckline on the chest of a figure facing the camera, a
    seam down the spine of one that turns its back (flat marks on the shirt)."""
    keys = (NECK, R_SHOULDER, L_SHOULDER)
    if spread > 0.4:
        neckline = (
            Circle(*add(top, scaled(down, 0.08 * u)), 0.17 * u),
            Circle(*add(top, scaled(down, 0.42 * u)), 0.05 * u),
        )
        return [BodyPart("neckline", neckline, keys, LAYER_CHEST + 0.5, "skin", flat=True)]
    if spread < -0.4:
        seam = (
            Circle(*add(top, scaled(down, 0.3 * u)), 0.03 * u),
            Circle(*add(top, scaled(down, length * 0.85)), 0.03 * u),
        )
        return [BodyPart("seam", seam, keys, LAYER_CHEST + 0.5, "seam", flat=True)]
    return []
