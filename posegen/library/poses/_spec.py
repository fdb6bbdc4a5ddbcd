"""The pose record, the `pose` helper and the reusable limb positions the category modules use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from posegen.library.skeleton import Angles, BodyPose, Keypoints
from posegen.library.taxonomy import Difficulty, Framing, GenderSuitability


@dataclass(frozen=True)
class PoseSpec:
    """One curated library pose: its catalogue entry and its keypoints."""

    slug: str
    name: str
    description: str
    category: str
    tags: tuple[str, ...]
    difficulty: Difficulty
    gender: GenderSuitability
    framing: Framing
    keypoints: Keypoints
    featured: bool = False
    premium: bool = False


# A set of limb angles (keys are `BodyPose` limb fields), applied with `BodyPose.with_limbs`.
Limbs = dict[str, Angles]
ArmAngles = tuple[Angles, Angles]


def right_arm(upper: Angles, fore: Angles) -> Limbs:
    """The right arm's upper-arm and forearm angles."""
    return {"r_arm": upper, "r_fore": fore}


def left_arm(upper: Angles, fore: Angles) -> Limbs:
    """The left arm's upper-arm and forearm angles."""
    return {"l_arm": upper, "l_fore": fore}


def arms(upper: Angles, fore: Angles) -> Limbs:
    """Both arms held the same way (mirrored)."""
    return right_arm(upper, fore) | left_arm(upper, fore)


def right_leg(thigh: Angles, shin: Angles) -> Limbs:
    """The right leg's thigh and shin angles."""
    return {"r_thigh": thigh, "r_shin": shin}


def left_leg(thigh: Angles, shin: Angles) -> Limbs:
    """The left leg's thigh and shin angles."""
    return {"l_thigh": thigh, "l_shin": shin}


def legs(thigh: Angles, shin: Angles) -> Limbs:
    """Both legs held the same way (mirrored)."""
    return right_leg(thigh, shin) | left_leg(thigh, shin)


# Recurring arm positions as (upper arm, forearm) angles, see `posegen.library.skeleton.limb_direction`.
ON_HIP: ArmAngles = ((35, -15), (-40, -10))  # hand on the hip, elbow out
IN_POCKET: ArmAngles = ((20, -10), (-30, 30))  # hand in the front trouser pocket
TO_EAR: ArmAngles = ((15, 25), (205, -10))  # hand (with a phone) at the ear
TO_CHIN: ArmAngles = ((-24, 33), (197, -7))  # elbow propped forward, chin on the hand
TO_MOUTH: ArmAngles = ((10, 30), (220, 40))  # hand (with a microphone) under the chin
MUG: ArmAngles = ((5, 15), (215, 60))  # hand holding a cup up in front of the chest
WAVE: ArmAngles = ((100, 10), (170, 10))  # upper arm out, forearm up, hand above the head

R_ON_HIP, L_ON_HIP, HANDS_ON_HIPS = right_arm(*ON_HIP), left_arm(*ON_HIP), arms(*ON_HIP)
R_IN_POCKET, L_IN_POCKET, HANDS_IN_POCKETS = right_arm(*IN_POCKET), left_arm(*IN_POCKET), arms(*IN_POCKET)
R_TO_EAR, R_TO_CHIN, L_TO_CHIN = right_arm(*TO_EAR), right_arm(*TO_CHIN), left_arm(*TO_CHIN)
R_TO_MOUTH, R_MUG, R_WAVE = right_arm(*TO_MOUTH), right_arm(*MUG), right_arm(*WAVE)
HANDS_CLASPED = arms((5, 10), (-55, 40))  # hands clasped low in front of the body
HANDS_TOGETHER_OVERHEAD = arms((200, 0), (200, 0))  # straight arms, palms meeting above the head
T_ARMS = arms((90, 0), (90, 0))  # straight out to the sides at shoulder height
HOLDING_AT_CHEST = arms((8, 25), (-25, 75))  # forearms forward, holding something at chest height
HANDS_ON_LAP = arms((5, 17), (-38, 41))  # seated, hands resting together on the thighs
HANDS_BEHIND_HEAD = arms((125, -30), (-104, 9))  # fingers laced behind the head, elbows wide
# Forearms folded across the chest, each hand past the midline at the opposite elbow.
ARMS_CROSSED = right_arm((-5, 35), (-95, 10)) | left_arm((-5, 40), (-95, 0))
SEATED = legs((5, 85), (0, 0))  # thighs toward the camera, shins vertical: sitting on a chair


def slugify(name: str) -> str:
    """Kebab-case slug of a pose name: "100% Confident Power Stance" → "100-confident-power-stance"."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


def pose(
    name: str,
    category: str,
    description: str,
    tags: str,
    body: BodyPose,
    *,
    difficulty: Difficulty = Difficulty.BEGINNER,
    gender: GenderSuitability = GenderSuitability.UNISEX,
    framing: Framing = Framing.FULL_BODY,
    featured: bool = False,
    premium: bool = False,
) -> PoseSpec:
    """A pose from its catalogue text and body angles; `tags` is comma-separated for brevity."""
    return PoseSpec(
        slug=slugify(name),
        name=name,
        description=description,
        category=category,
        tags=tuple(tag.strip() for tag in tags.split(",")),
        difficulty=difficulty,
        gender=gender,
        framing=framing,
        keypoints=body.keypoints(framing),
        featured=featured,
        premium=premium,
    )
