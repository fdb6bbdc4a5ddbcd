"""Takes: what makes each paid variation of one pose a different picture of the same pose.

A :class:`Take` is drawn from the variation's number and the generation's seed (:func:`take_for`):
the camera turns about the figure's vertical axis (``yaw``, using the depth the keypoints carry), the
framing zooms and slides (``zoom``, ``shift``), each limb and the head swing a few degrees about their
parent joint (bone lengths kept, so the pose stays the pose), and the key light comes from another side
in another colour temperature (``light``, ``warmth``). Variation 1 is the canonical take: it changes
nothing, so a single render looks exactly as it always did.

:func:`take_keypoints` gives the take's keypoints (what every engine draws and what the pose check
expects); :func:`take_framing` and :func:`relight` are what a renderer that frames the figure itself
(the mannequin) needs to show the same zoom, slide and light. Pure functions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from posegen.imaging.keypoints import is_present, validate_points
from posegen.kit.openpose import (
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


@dataclass(frozen=True)
class Take:
    """One variation's camera, framing, small joint variation and light (see the module docstring).

    ``yaw`` in degrees (positive turns the figure's front towards image right); ``zoom`` scales the
    figure against the canonical framing; ``shift`` slides it, as a share of the free room the zoomed
    framing leaves (-1…1 each way); ``swing`` is the largest joint swing in degrees (0: none) and
    ``swing_seed`` draws the swings; ``light`` turns the key light in degrees; ``warmth`` tints the
    figure (-1 cool … 1 warm).
    """

    number: int = 1
    yaw: float = 0.0
    zoom: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)
    swing: float = 0.0
    swing_seed: int = 0
    light: float = 0.0
    warmth: float = 0.0

    @property
    def canonical(self) -> bool:
        """Whether the take changes nothing (variation 1)."""
        return self == Take(number=self.number)

    def as_json(self) -> dict[str, object]:
        """The stored form (kept with the variation's keypoints)."""
        return asdict(self) | {"shift": list(self.shift)}

    @classmethod
    def from_json(cls, data: Mapping[str, object] | None) -> Take:
        """A take read back from :meth:`as_json` (the canonical take for None)."""
        if not data:
            return CANONICAL
        shift = data.get("shift") or (0.0, 0.0)
        assert isinstance(shift, list | tuple)
        values = {name: data[name] for name in ("yaw", "zoom", "swing", "light", "warmth") if name in data}
        return cls(
            number=int(str(data.get("number", 1))),
            shift=(float(shift[0]), float(shift[1])),
            swing_seed=int(str(data.get("swing_seed", 0))),
            **{name: float(str(value)) for name, value in values.items()},
        )


CANONICAL = Take()

# How far takes go. The yaw stays well short of a side view, the swings of a different gesture
# (pose_distance about 0.02–0.05, like a head turned 30°), and the zoom within a framing a person
# would choose for the same shot.
YAW_RANGE = (10.0, 22.0)
ZOOM_OUT_RANGE = (0.78, 0.9)
ZOOM_IN_RANGE = (1.03, 1.06)
SWING = 7.0
# The key light's turn from the canonical upper left, by variation: 2 from higher up, 3 from the
# left, 4 from the upper right, 5 from low left, then round again (each ± LIGHT_SPREAD).
LIGHT_TURNS = (-45.0, 40.0, 85.0, -85.0)
LIGHT_SPREAD = 10.0
WARMTH_RANGE = (0.45, 1.0)


def take_for(number: int, seed: int) -> Take:
    """The take of variation ``number`` (1-based) of a generation seeded ``seed``; 1 is canonical.

    Deterministic: the same number and seed always give the same take. Consecutive variations turn
    the camera to opposite sides and alternate cool and warm light, and four variations in a row
    take the light from four sides, so any two of them differ.
    """
    if number < 1:
        raise ValueError(f"variation numbers start at 1, got {number}")
    if number == 1:
        return CANONICAL
    rng = random.Random(f"take:{seed}:{number}")  # noqa: S311 - look, not security
    side = 1.0 if number % 2 == 0 else -1.0
    zoom = rng.uniform(*ZOOM_IN_RANGE) if rng.random() < 0.25 else rng.uniform(*ZOOM_OUT_RANGE)
    return Take(
        number=number,
        yaw=round(side * rng.uniform(*YAW_RANGE), 3),
        zoom=round(zoom, 4),
        shift=(round(side * rng.uniform(0.4, 1.0), 4), round(rng.uniform(-0.4, 0.4), 4)),
        swing=SWING,
        swing_seed=rng.randrange(2**31),
        light=round(LIGHT_TURNS[(number - 2) % len(LIGHT_TURNS)] + rng.uniform(-1, 1) * LIGHT_SPREAD, 3),
        warmth=round((1.0 if number % 2 else -1.0) * rng.uniform(*WARMTH_RANGE), 4),
    )


# Each swinging joint group: the pivot, the points that swing with it, and the share of SWING it
# may reach (legs carry the figure, so they move least).
_SWINGS: tuple[tuple[int, tuple[int, ...], float], ...] = (
    (NECK, (NOSE, R_EYE, L_EYE, R_EAR, L_EAR), 0.8),
    (R_SHOULDER, (R_ELBOW, R_WRIST), 1.0),
    (R_ELBOW, (R_WRIST,), 1.2),
    (L_SHOULDER, (L_ELBOW, L_WRIST), 1.0),
    (L_ELBOW, (L_WRIST,), 1.2),
    (R_HIP, (R_KNEE, R_ANKLE), 0.4),
    (R_KNEE, (R_ANKLE,), 0.5),
    (L_HIP, (L_KNEE, L_ANKLE), 0.4),
    (L_KNEE, (L_ANKLE,), 0.5),
)
# Present points are kept this far inside the unit square after the take's framing.
_EDGE = 0.01


def take_keypoints(
    points: Sequence[Point], depth: Sequence[float], take: Take
) -> tuple[list[Point], list[float]]:
    """The pose as this take shows it: turned, swung and framed (absent points stay absent).

    Returns new points and depths; the canonical take returns them unchanged. Present points stay
    inside the unit square.
    """
    validate_points(points)
    if len(depth) != len(points):
        raise ValueError(f"expected {len(points)} depth values, got {len(depth)}")
    xyz = [[float(x), float(y), float(z)] for (x, y, _), z in zip(points, depth, strict=True)]
    present = [is_present(point) for point in points]
    if take.canonical or not any(present):
        return [(float(x), float(y), float(c)) for x, y, c in points], [float(z) for z in depth]
    _turn(xyz, present, take.yaw)
    _swing(xyz, present, take)
    _frame(xyz, present, take)
    moved: list[Point] = [
        (round(x, 5), round(y, 5), point[2]) if shown else (0.0, 0.0, 0.0)
        for (x, y, _), point, shown in zip(xyz, points, present, strict=True)
    ]
    return moved, [round(z, 5) if shown else 0.0 for (_, _, z), shown in zip(xyz, present, strict=True)]


def _turn(xyz: list[list[float]], present: Sequence[bool], yaw: float) -> None:
    """Turn about the vertical axis through the present points' centre (orthographic)."""
    shown = [p for p, keep in zip(xyz, present, strict=True) if keep]
    cx = sum(p[0] for p in shown) / len(shown)
    cz = sum(p[2] for p in shown) / len(shown)
    c, s = math.cos(math.radians(yaw)), math.sin(math.radians(yaw))
    for p in shown:
        dx, dz = p[0] - cx, p[2] - cz
        p[0], p[2] = cx + dx * c + dz * s, cz - dx * s + dz * c


def _swing(xyz: list[list[float]], present: Sequence[bool], take: Take) -> None:
    """Swing limbs and head about their parent joints in the picture plane (bone lengths kept)."""
    rng = random.Random(take.swing_seed)  # noqa: S311 - look, not security
    for pivot, moving, share in _SWINGS:
        angle = math.radians(rng.uniform(-1.0, 1.0) * take.swing * share)
        if not present[pivot] or angle == 0.0:
            continue
        px, py = xyz[pivot][0], xyz[pivot][1]
        c, s = math.cos(angle), math.sin(angle)
        for index in moving:
            if present[index]:
                dx, dy = xyz[index][0] - px, xyz[index][1] - py
                xyz[index][0], xyz[index][1] = px + dx * c - dy * s, py + dx * s + dy * c


def _frame(xyz: list[list[float]], present: Sequence[bool], take: Take) -> None:
    """Zoom about the figure's box centre, then slide within the room left, all inside the square."""
    shown = [p for p, keep in zip(xyz, present, strict=True) if keep]
    x0, x1 = min(p[0] for p in shown), max(p[0] for p in shown)
    y0, y1 = min(p[1] for p in shown), max(p[1] for p in shown)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    room = 1.0 - 2 * _EDGE
    zoom = min(take.zoom, room / max(x1 - x0, 1e-9), room / max(y1 - y0, 1e-9))
    half_w, half_h = (x1 - x0) * zoom / 2, (y1 - y0) * zoom / 2
    # Slide from the centre of the square by the take's share of the free room on each axis.
    tx = 0.5 + take.shift[0] * max(0.0, 0.5 - _EDGE - half_w)
    ty = 0.5 + take.shift[1] * max(0.0, 0.5 - _EDGE - half_h)
    for p in shown:
        p[0] = tx + (p[0] - cx) * zoom
        p[1] = ty + (p[1] - cy) * zoom
        p[2] *= zoom


@dataclass(frozen=True)
class Framing:
    """Where a renderer that frames the figure itself draws a take: render a ``canvas``-sized picture
    with the figure framed at ``margin``, then keep the output-sized window at ``origin``."""

    canvas: tuple[int, int]
    margin: float
    origin: tuple[int, int]


# The renderer's own framing (`posegen.imaging.geometry.fit_transform`'s default margin), which the
# canonical take keeps; the zoomed margin never goes below _MIN_MARGIN, so nothing is cut.
CANONICAL_MARGIN = 0.08
_MIN_MARGIN = 0.03


def take_framing(width: int, height: int, take: Take) -> Framing:
    """The framing of ``take`` for a ``width`` × ``height`` output.

    The zoom scales the share of the canvas the figure spans (``1 - 2·margin``). The slide renders a
    canvas wider (taller) by twice the slide and keeps the window the slide asks for: the figure
    moves by the slide and is never cut, as the slide stays below half the free margin.
    """
    span = 1.0 - 2 * CANONICAL_MARGIN
    # The canonical zoom keeps the renderer's margin exactly (the arithmetic would be 1 ulp off).
    zoomed = (1.0 - take.zoom * span) / 2 if take.zoom != 1.0 else CANONICAL_MARGIN
    margin = min(0.45, max(_MIN_MARGIN, zoomed))
    short = min(width, height)
    room = max(0.0, (margin - _MIN_MARGIN) / 2) * short
    dx, dy = round(take.shift[0] * room), round(take.shift[1] * room)
    canvas = (width + 2 * abs(dx), height + 2 * abs(dy))
    # The window's origin: the figure, centred on the canvas, sits dx right of the window's centre.
    return Framing(canvas, margin, (abs(dx) - dx, abs(dy) - dy))


# How strongly a take's light shapes and tints the figure: the lit side brightens and the far side
# darkens by up to _LIGHT_GAIN; full warmth scales red and blue apart by _WARM_GAIN. A backdrop the
# renderer chose itself is lit too, more softly (_BACKDROP_GAIN, half the warmth), as a studio
# backdrop falls off away from the key light.
_LIGHT_GAIN = 0.22
_WARM_GAIN = 0.08
_BACKDROP_GAIN = 0.08


def relight(image: Image.Image, mask: Image.Image, take: Take, *, backdrop: bool = False) -> Image.Image:
    """The figure (``mask``, "L") under the take's key light: brighter towards the light, darker away,
    warmer or cooler. The background is lit too (softly) with ``backdrop``, else left exactly as it
    is (a colour or picture the caller chose). The canonical take returns ``image`` itself."""
    if take.light == 0.0 and take.warmth == 0.0:
        return image
    result = image.convert("RGB") if image.mode != "RGB" else image.copy()
    alpha_full = np.asarray(mask, dtype=np.float32) / 255.0
    angle = math.atan2(-0.78, -0.62) + math.radians(take.light)
    light = (math.cos(angle), math.sin(angle))
    if backdrop:
        box = (0, 0, *result.size)
        _light_box(result, 1.0 - alpha_full, box, light, _BACKDROP_GAIN, take.warmth / 2)
    ys, xs = np.nonzero(alpha_full > 0)
    if xs.size:
        box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
        _light_box(result, alpha_full, box, light, _LIGHT_GAIN, take.warmth)
    return result


def _light_box(
    image: Image.Image,
    weight: npt.NDArray[np.float32],  # (height, width), 0–1
    box: tuple[int, int, int, int],
    light: tuple[float, float],
    strength: float,
    warmth: float,
) -> None:
    """Light ``box`` of ``image`` in place with a linear ramp along ``light`` across the box, brighter
    towards the light by up to ``strength``, tinted by ``warmth``, blended by ``weight``."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    reach = max(width, height) / 2
    grid_y, grid_x = np.mgrid[0:height, 0:width].astype(np.float32)
    facing = np.clip(((grid_x - width / 2) * light[0] + (grid_y - height / 2) * light[1]) / reach, -1, 1)
    tint = np.array([1.0 + _WARM_GAIN * warmth, 1.0, 1.0 - _WARM_GAIN * warmth], dtype=np.float32)
    pixels = np.asarray(image.crop(box), dtype=np.float32)
    lit = np.clip(pixels * (1.0 + strength * facing)[:, :, None] * tint[None, None, :], 0.0, 255.0)
    blended = pixels + (lit - pixels) * weight[top:bottom, left:right, None]
    image.paste(Image.fromarray(np.rint(blended).astype(np.uint8), "RGB"), (left, top))
