"""The mannequin's head: neck, skull, hair or a head covering, and a simple face.

The face (eyes, nose, mouth, on an oval of skin) is drawn only where the nose keypoint is present: a
head turned away from the camera shows the back of the skull, its hair or its covering. A covering
(``hijab``, ``khimar``, ``turban``) or hair is painted over the skull and the face oval over that, so the
covering or hair frames the face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from posegen.imaging.look import Figure
from posegen.imaging.parts import LAYER_HEAD, LAYER_NECK, BodyPart, Circle
from posegen.imaging.torso import PointLookup, Torso
from posegen.imaging.vectors import XY, add, lerp, mean, scaled, sub, unit_vector
from posegen.kit.openpose import L_EAR, L_EYE, NECK, NOSE, R_EAR, R_EYE

FACE = (NOSE, R_EYE, L_EYE, R_EAR, L_EAR)
# A point in the head's own frame: (along its up axis, across it), in head units, to keypoint coordinates.
Local = Callable[[float, float], XY]


@dataclass(frozen=True)
class HeadStyle:
    """The head's dressing: a hair style (see :data:`posegen.imaging.look.HAIR_STYLES`) and a covering."""

    hair_style: str = "bald"
    head_covering: str = "none"


BARE = HeadStyle()


def head_frame(at: PointLookup, torso: Torso, u: float) -> tuple[XY, XY, tuple[int, ...]] | None:
    """Head centre, its up direction and the keypoints it stands for; estimated from the neck if faceless."""
    face = [(i, p) for i in FACE if (p := at(i)) is not None]
    neck = at(NECK)
    if face:
        centre = mean([p for _, p in face])
        up = unit_vector(sub(centre, neck), (0.0, -1.0)) if neck is not None else scaled(torso.down, -1)
        return centre, up, tuple(i for i, _ in face)
    if neck is not None and torso.top is not None:
        up = scaled(torso.down, -1)
        return add(neck, scaled(up, 0.95 * u)), up, (NECK,)
    return None


def head_parts(at: PointLookup, torso: Torso, u: float, figure: Figure, style: HeadStyle) -> list[BodyPart]:
    frame = head_frame(at, torso, u)
    if frame is None:
        return []
    centre, up, keys = frame
    h = u * figure.head
    across = (-up[1], up[0])
    nose = at(NOSE)
    lean = 0.0
    if nose is not None:
        offset = sub(nose, centre)
        lean = max(-0.13 * h, min(0.13 * h, (offset[0] * across[0] + offset[1] * across[1]) * 0.8))

    def point(along_up: float, along_across: float) -> XY:
        return add(add(centre, scaled(up, along_up * h)), scaled(across, along_across * h))

    parts: list[BodyPart] = []
    neck = at(NECK)
    if neck is not None:
        # Ordered by the neck keypoint alone: a nose nearer the camera must not lift the neck over the face.
        column = (Circle(*neck, 0.18 * u), Circle(*lerp(neck, centre, 0.62), 0.15 * u))
        parts.append(BodyPart("neck", column, (NECK,), LAYER_NECK, "skin"))
    # The jaw leans towards the nose, so a turned head shows which way it faces.
    jaw = add(point(-0.3, 0.0), scaled(across, lean))
    skull = (Circle(*point(0.06, 0.0), 0.43 * h), Circle(*jaw, 0.27 * h))
    parts.append(BodyPart("head", skull, keys, LAYER_HEAD, "skin", cylindrical=False))

    covering = style.head_covering if style.head_covering != "none" else None
    hair = style.hair_style if style.hair_style != "bald" else None
    if covering is not None:
        parts.extend(_covering(covering, point, neck, torso, u, h, keys))
    elif hair is not None:
        parts.extend(_hair(hair, point, keys, h, facing_camera=nose is not None, upright=-up[1]))
    if nose is None:
        return parts
    if covering is not None or hair is not None:
        # The face shows through the hair or the covering as an oval of skin.
        face = (
            Circle(*add(point(-0.02, 0.0), scaled(across, lean * 0.5)), 0.3 * h),
            Circle(*add(point(-0.3, 0.0), scaled(across, lean)), 0.23 * h),
        )
        parts.append(BodyPart("face", face, keys, LAYER_HEAD + 0.3, "skin", cylindrical=False))
    parts.extend(_features(at, point, across, lean, h, keys))
    return parts


def _features(
    at: PointLookup, point: Local, across: XY, lean: float, h: float, keys: tuple[int, ...]
) -> list[BodyPart]:
    """Eyes at the eye keypoints, a small nose at the nose keypoint and a mouth under it."""
    features: list[BodyPart] = []
    for name, index in (("eye_r", R_EYE), ("eye_l", L_EYE)):
        eye = at(index)
        if eye is not None:
            features.append(
                BodyPart(name, (Circle(*eye, 0.055 * h),), keys, LAYER_HEAD + 0.4, "eye", flat=True)
            )
    nose = at(NOSE)
    if nose is not None:
        tip = (
            Circle(*nose, 0.065 * h),
            Circle(*add(nose, scaled(sub(point(0.12, 0.0), point(0.0, 0.0)), 1.0)), 0.04 * h),
        )
        features.append(BodyPart("nose", tip, keys, LAYER_HEAD + 0.4, "nose", flat=True))
        mouth_centre = add(point(-0.26, 0.0), scaled(across, lean * 0.9))
        mouth = (
            Circle(*add(mouth_centre, scaled(across, -0.08 * h)), 0.028 * h),
            Circle(*add(mouth_centre, scaled(across, 0.08 * h)), 0.028 * h),
        )
        features.append(BodyPart("mouth", mouth, keys, LAYER_HEAD + 0.4, "mouth", flat=True))
    return features


def _hair(
    style: str, point: Local, keys: tuple[int, ...], h: float, *, facing_camera: bool, upright: float
) -> list[BodyPart]:
    """A cap of hair over the skull (the face oval is drawn over it) and, for longer styles, hair hanging
    behind the head and shoulders."""
    size = 1.12 if style == "curly" else 1.0
    cap = [Circle(*point(0.1, 0.0), 0.47 * h * size), Circle(*point(-0.12, 0.0), 0.38 * h * size)]
    if style == "bun":
        cap.append(Circle(*point(0.58, 0.0), 0.2 * h))
    if style == "ponytail" and not facing_camera:
        cap.append(Circle(*point(-0.55, 0.0), 0.16 * h))
    parts = [BodyPart("hair", tuple(cap), keys, LAYER_HEAD + 0.2, "hair", cylindrical=False)]
    drop = {"medium": -0.55, "long": -1.35, "curly": -0.8, "ponytail": -0.9}.get(style)
    if drop is not None:
        # A head tipped down (a fold, a bow) has its hair fall past the crown, not down the back.
        drop *= max(0.3, upright)
        width = 0.2 if style == "ponytail" else 0.36 * size
        hanging = [Circle(*point(0.1, 0.0), 0.45 * h * size)]
        # Hair falls with gravity (image down), whichever way the head is tipped.
        crown = point(0.0, 0.0)
        if style == "ponytail":
            hanging.append(Circle(crown[0], crown[1] - drop * h, 0.14 * h))
        else:
            for sign in (1.0, -1.0):
                hanging.append(Circle(crown[0] + sign * width * h, crown[1] - drop * h, 0.24 * h))
        # Behind the head, neck and shoulders when the face is seen; over the back when it is not.
        parts.append(
            BodyPart(
                "hair_back",
                tuple(hanging),
                keys,
                LAYER_HEAD + 0.1 if not facing_camera else LAYER_NECK - 0.5,
                "hair",
                bias=-1.5 if facing_camera else 0.0,
            )
        )
    return parts


def _covering(
    kind: str, point: Local, neck: XY | None, torso: Torso, u: float, h: float, keys: tuple[int, ...]
) -> list[BodyPart]:
    """A hijab wraps the head and drapes over the shoulders (a khimar further, to the chest); a turban
    wraps only the skull."""
    wrap = [Circle(*point(0.1, 0.0), 0.5 * h)]
    if kind == "turban":
        wrap.append(Circle(*point(0.45, 0.0), 0.36 * h))
        return [BodyPart("covering", tuple(wrap), keys, LAYER_HEAD + 0.2, "cover", cylindrical=False)]
    wrap.extend((Circle(*point(-0.35, 0.32), 0.28 * h), Circle(*point(-0.35, -0.32), 0.28 * h)))
    if neck is not None:
        side = (torso.down[1], -torso.down[0])
        reach, depth, radius = (0.36, 0.2, 0.34) if kind == "hijab" else (0.5, 1.0, 0.42)
        for sign in (1.0, -1.0):
            wrap.append(
                Circle(
                    *add(add(neck, scaled(side, sign * reach * u)), scaled(torso.down, depth * u)), radius * u
                )
            )
    return [BodyPart("covering", tuple(wrap), keys, LAYER_HEAD + 0.2, "cover", cylindrical=False)]
