"""Fashion poses: editorial, street style and the runway."""

from __future__ import annotations

from posegen.library.poses._spec import (
    HANDS_IN_POCKETS,
    HANDS_ON_HIPS,
    L_IN_POCKET,
    L_ON_HIP,
    R_MUG,
    R_ON_HIP,
    PoseSpec,
    arms,
    left_arm,
    left_leg,
    legs,
    pose,
    right_arm,
    right_leg,
)
from posegen.library.skeleton import BodyPose
from posegen.library.taxonomy import Difficulty, GenderSuitability

EDITORIAL = "editorial"
STREET = "street-style"
RUNWAY = "runway-catwalk"

POSES: tuple[PoseSpec, ...] = (
    pose(
        "Angular Arms Overhead",
        EDITORIAL,
        "Both elbows bent above the head with the forearms crossing over the crown, making sharp angles. "
        "Hips pushed to one side, head tilted.",
        "angular, arms overhead, editorial, elbows, dramatic",
        BodyPose(bend=6, head_tilt=-10).with_limbs(
            right_arm((160, 0), (-90, 0)), left_arm((160, 0), (-90, 5)), left_leg((8, 10), (0, -10))
        ),
        difficulty=Difficulty.INTERMEDIATE,
        featured=True,
    ),
    pose(
        "Hand on Head Contrapposto",
        EDITORIAL,
        "Weight on the right leg with the hip pushed out, the right hand resting on top of the head and the "
        "left hand on the hip. Body slightly turned, chin down.",
        "hand on head, contrapposto, editorial, hip, standing",
        BodyPose(turn=15, bend=-6, head_nod=8, r_thigh=(-4, 0)).with_limbs(
            right_arm((150, -5), (-100, -10)), left_leg((8, 12), (2, -12)), L_ON_HIP
        ),
        gender=GenderSuitability.FEMALE,
    ),
    pose(
        "Hands on Knees Lean",
        EDITORIAL,
        "Feet wide and knees slightly bent, the torso leaning toward the camera with both hands resting "
        "just above the knees. Head up, looking into the lens.",
        "leaning, hands on knees, editorial, wide stance, bold",
        BodyPose(turn=35, lean=50, head_turn=-20, head_nod=-40).with_limbs(
            arms((6, -10), (6, -10)), legs((18, 40), (8, -25))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Editorial Crouch",
        EDITORIAL,
        "Crouched low on the balls of the feet, knees apart at different heights, the right forearm "
        "draped over the right knee and the left hand touching the floor. Head tilted.",
        "crouch, squat, low, editorial, streetwear",
        BodyPose(turn=30, lean=20, head_tilt=8).with_limbs(
            right_arm((10, 50), (-20, 30)),
            left_arm((15, 15), (10, 20)),
            right_leg((30, 80), (5, -35)),
            left_leg((35, 55), (8, -60)),
        ),
        difficulty=Difficulty.ADVANCED,
        premium=True,
    ),
    pose(
        "Crossed Legs Stand",
        EDITORIAL,
        "Standing with the right leg crossed in front of the left at the shins, the right hand on the hip "
        "and the left arm long. Body turned slightly, head tilted.",
        "crossed legs, standing, editorial, elegant, hand on hip",
        BodyPose(turn=20, head_tilt=6, l_arm=(12, -5)).with_limbs(
            right_leg((-10, 8), (-8, 0)), left_leg((3, 0), (0, 0)), R_ON_HIP
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Dramatic Side Bend",
        EDITORIAL,
        "Feet wide, the torso bending sideways to the left with the right arm arcing overhead and the left "
        "hand sliding down the left thigh.",
        "side bend, stretch, arm overhead, editorial, dramatic",
        BodyPose(bend=18, head_tilt=12, r_thigh=(12, 0), l_thigh=(12, 0)).with_limbs(
            right_arm((165, 0), (200, 0)), left_arm((20, 0), (-10, 0))
        ),
        difficulty=Difficulty.INTERMEDIATE,
        premium=True,
    ),
    pose(
        "Framing the Face",
        EDITORIAL,
        "Both hands come up to frame the jaw with the elbows raised wide and forward. Shoulders square, "
        "head tilted slightly back.",
        "hands on face, framing, elbows out, editorial, beauty",
        BodyPose(turn=20, head_turn=-10, head_nod=-6).with_limbs(arms((80, 60), (-125, -25))),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Perched on a Stool",
        EDITORIAL,
        "Sitting high on a bar stool, the right leg reaching down to the floor and the left foot hooked on "
        "the rung. Both hands rest on the left knee, body turned.",
        "sitting, stool, seated, editorial, legs",
        BodyPose(turn=35, head_turn=-25).with_limbs(
            right_arm((-5, 30), (-20, 75)),
            left_arm((5, 30), (-5, 75)),
            right_leg((5, 55), (3, 5)),
            left_leg((0, 75), (0, -40)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Mid-Step Candid",
        STREET,
        "Caught mid-stride while walking, hands in the jacket pockets and the head lowered, eyes on the "
        "pavement. Body turned slightly away.",
        "walking, candid, street, hands in pockets, stride",
        BodyPose(turn=-35, head_nod=22).with_limbs(
            right_leg((0, 22), (0, 5)), left_leg((0, -15), (0, -35)), HANDS_IN_POCKETS
        ),
    ),
    pose(
        "Foot Up Against the Wall",
        STREET,
        "Leaning back against a wall with the right knee bent and the sole of the right foot flat on the "
        "wall behind. Hands in pockets, head turned aside.",
        "leaning, wall, foot up, street, relaxed",
        BodyPose(turn=20, lean=-5, head_turn=30).with_limbs(
            right_leg((5, 45), (0, -60)), left_leg((2, 8), (0, 5)), HANDS_IN_POCKETS
        ),
    ),
    pose(
        "Looking Away Candid",
        STREET,
        "Body three-quarter to the camera while the head turns away to the other side, as if something "
        "caught the eye. Left hand in the pocket, right arm loose.",
        "candid, looking away, street, natural, standing",
        BodyPose(turn=30, head_turn=55, r_arm=(6, 10)).with_limbs(left_leg((4, 8), (0, -6)), L_IN_POCKET),
    ),
    pose(
        "Crossing the Street",
        STREET,
        "A long stride seen from the side, arms swinging opposite the legs, the head turned toward the "
        "camera.",
        "walking, stride, street, side view, crossing",
        BodyPose(turn=80, head_turn=-45).with_limbs(
            right_arm((5, 30), (0, 50)),
            left_arm((5, -30), (0, -15)),
            right_leg((0, -22), (0, -40)),
            left_leg((0, 30), (0, 8)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Adjusting Sunglasses",
        STREET,
        "The right hand lifts to the temple to adjust a pair of sunglasses, the left hand in the pocket. "
        "Body angled, chin slightly up.",
        "sunglasses, hand to face, street, cool, standing",
        BodyPose(turn=-25, head_turn=15, head_nod=-6).with_limbs(
            right_arm((25, 15), (205, -5)), right_leg((3, 10), (0, -8)), L_IN_POCKET
        ),
    ),
    pose(
        "Sitting on the Steps",
        STREET,
        "Sitting low on a step with the knees drawn up higher than the hips, elbows resting on the knees "
        "and hands loosely together. Body slightly turned.",
        "sitting, steps, street, knees up, relaxed",
        BodyPose(turn=25, lean=15).with_limbs(arms((5, 55), (-40, 55)), legs((12, 105), (5, -15))),
    ),
    pose(
        "Coffee Stroll",
        STREET,
        "Walking along at an angle with a coffee cup held up in the right hand and the left arm swinging. "
        "Head turned toward the camera.",
        "walking, coffee, street, stroll, casual",
        BodyPose(turn=45, head_turn=-30).with_limbs(
            left_arm((5, 25), (0, 40)), right_leg((0, 25), (0, 5)), left_leg((0, -12), (0, -35)), R_MUG
        ),
    ),
    pose(
        "Catwalk Stride",
        RUNWAY,
        "Walking straight toward the camera on the runway, the right foot crossing in front of the left, "
        "arms swinging lightly close to the body. Chin level, eyes ahead.",
        "catwalk, runway, walking, stride, model",
        BodyPose(turn=12).with_limbs(
            right_arm((8, -15), (5, 0)),
            left_arm((8, 20), (0, 35)),
            right_leg((-8, 28), (-4, 5)),
            left_leg((3, -12), (0, -32)),
        ),
        featured=True,
    ),
    pose(
        "Runway End Pose",
        RUNWAY,
        "At the end of the runway, the left hand on the hip and the weight on the right leg, left knee "
        "bent out. Head tilted toward the camera.",
        "runway, end pose, hand on hip, model, standing",
        BodyPose(turn=15, bend=-5, head_tilt=-6, r_arm=(10, 0), r_thigh=(-3, 0)).with_limbs(
            left_leg((12, 10), (-5, -8)), L_ON_HIP
        ),
        difficulty=Difficulty.INTERMEDIATE,
        gender=GenderSuitability.FEMALE,
    ),
    pose(
        "Runway Turn",
        RUNWAY,
        "Turning away at the end of the runway, the back three-quarter to the camera with the head looking "
        "back over the shoulder. Right hand on the hip.",
        "runway, turn, over the shoulder, back view, model",
        BodyPose(turn=-120, head_turn=85, l_arm=(8, 5)).with_limbs(left_leg((3, 12), (0, -15)), R_ON_HIP),
        difficulty=Difficulty.INTERMEDIATE,
        premium=True,
    ),
    pose(
        "Power Walk",
        RUNWAY,
        "A strong walk angled to the camera with a long stride and big arm swing, the forward arm bent. "
        "Chin up, shoulders back.",
        "power walk, runway, walking, stride, confident",
        BodyPose(turn=-30, head_turn=20, head_nod=-6).with_limbs(
            right_arm((5, -30), (0, -10)),
            left_arm((5, 35), (0, 70)),
            right_leg((0, 30), (0, 10)),
            left_leg((0, -18), (0, -40)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Hands in Pockets Runway Walk",
        RUNWAY,
        "Walking toward the camera with both hands tucked in the trouser pockets, the left foot forward and "
        "the shoulders relaxed.",
        "runway, walking, hands in pockets, menswear, model",
        BodyPose(turn=25).with_limbs(
            right_leg((0, -12), (0, -30)), left_leg((-5, 25), (-3, 5)), HANDS_IN_POCKETS
        ),
        gender=GenderSuitability.MALE,
    ),
    pose(
        "Hip Pop Pause",
        RUNWAY,
        "Paused on the runway with both hands on the hips, the hip dropped to one side and the knee on that "
        "side bent. Head tilted the opposite way.",
        "hip pop, hands on hips, runway, model, pause",
        BodyPose(bend=8, head_tilt=-8, l_thigh=(-4, 0)).with_limbs(
            right_leg((6, 10), (-6, -8)), HANDS_ON_HIPS
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Side Profile Catwalk",
        RUNWAY,
        "The catwalk seen from the side, mid-stride with the front leg straight and the back heel lifted, "
        "arms swinging close to the body. Head facing forward.",
        "side profile, catwalk, runway, walking, model",
        BodyPose(turn=-90).with_limbs(
            right_arm((3, -18), (0, -10)),
            left_arm((3, 15), (0, 30)),
            right_leg((0, 25), (0, 15)),
            left_leg((0, -15), (0, -25)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
)
