"""The pieces the mannequin body model is made of: circles and convex "hull of circles" parts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Circle:
    """A circle in whatever coordinates the keypoints were given in."""

    x: float
    y: float
    r: float


@dataclass(frozen=True)
class BodyPart:
    """One rigid piece of the mannequin: the convex hull of its circles.

    ``keypoints`` are the indices whose mean depth orders the part back to front; ``layer`` breaks depth
    ties so a flat pose still stacks naturally (torso under limbs, joints over the segments they join).
    ``material`` names the colour: ``skin``, ``top`` (shirt), ``bottom`` (trousers), ``shoe``, ``hair``,
    ``cover`` (a head covering), the facial features ``eye``, ``nose`` and ``mouth``, or ``body``;
    ``joint`` marks ball joints. ``cylindrical`` parts are shaded across their axis, the others towards
    a centre, like a sphere; ``flat`` parts (facial features) get one colour and no outline. ``bias`` is
    added to the part's nearness when ordering, so long hair hangs behind the shoulders.
    """

    name: str
    circles: tuple[Circle, ...]
    keypoints: tuple[int, ...]
    layer: float
    material: str = "body"
    cylindrical: bool = True
    joint: bool = False
    flat: bool = False
    bias: float = 0.0


# Draw-order tie-breaks for parts at the same depth. The pelvis covers the tops of the thighs, as the
# block of a wooden mannequin does; that is also why the hips get no ball joint of their own. The head's
# pieces (skull, hair or covering, face, features) sit on fractional layers so nothing comes between.
LAYER_THIGH, LAYER_SHIN, LAYER_FOOT = 0, 1, 2
LAYER_PELVIS, LAYER_ABDOMEN, LAYER_CHEST, LAYER_NECK, LAYER_HEAD = 3, 4, 5, 6, 7
LAYER_UPPER_ARM, LAYER_FOREARM, LAYER_HAND, LAYER_JOINT = 8, 9, 10, 11
FEATURE_MATERIALS = frozenset({"eye", "nose", "mouth"})
