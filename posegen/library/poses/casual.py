"""Casual poses: everyday, social media, outdoors and sitting."""

from __future__ import annotations

from posegen.library.poses._spec import (
    HANDS_BEHIND_HEAD,
    HANDS_ON_HIPS,
    L_ON_HIP,
    R_WAVE,
    SEATED,
    Limbs,
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

EVERYDAY = "everyday-casual"
SOCIAL = "social-media"
OUTDOOR = "outdoor-lifestyle"
SITTING = "sitting-relaxed"

# Hands clasped behind the lower back, elbows slightly bent.
HANDS_BEHIND_BACK: Limbs = {"r_arm": (5, -20), "r_fore": (-40, -40), "l_arm": (5, -20), "l_fore": (-40, -40)}
# Sitting on the floor with the legs crossed: knees out to the sides, shins crossing in front.
LEGS_CROSSED_ON_FLOOR: Limbs = {
    "r_thigh": (80, 40),
    "r_shin": (-80, 30),
    "l_thigh": (80, 40),
    "l_shin": (-80, 30),
}

POSES: tuple[PoseSpec, ...] = (
    pose(
        "Walking Forward",
        EVERYDAY,
        "A natural walking stride angled to the camera: the right leg steps forward while the left knee "
        "bends behind, and the arms swing opposite the legs. Head turned toward the camera.",
        "walking, walk, stride, casual, natural, street",
        BodyPose(turn=55, head_turn=-30).with_limbs(
            right_arm((5, -25), (5, -10)),
            left_arm((5, 25), (5, 45)),
            right_leg((0, 28), (0, 8)),
            left_leg((0, -18), (0, -45)),
        ),
        featured=True,
    ),
    pose(
        "Hands on Hips",
        EVERYDAY,
        "Standing with both hands on the hips and the elbows pointing out to the sides, weight on the right "
        "leg and the left knee relaxed. Head tilted slightly.",
        "hands on hips, standing, confident, casual, elbows out",
        BodyPose(turn=10, head_tilt=5).with_limbs(left_leg((6, 10), (0, -8)), HANDS_ON_HIPS),
    ),
    pose(
        "Relaxed Weight Shift",
        EVERYDAY,
        "Standing easy with the weight on the right leg, the left knee bent and the hip dropped, arms "
        "hanging loose. Body turned a little, head tilted.",
        "relaxed, standing, natural, casual, weight shift",
        BodyPose(turn=20, bend=-4, head_tilt=5, head_turn=-10).with_limbs(left_leg((8, 10), (-3, -10))),
    ),
    pose(
        "Waving Hello",
        EVERYDAY,
        "Standing facing the camera with the right hand raised above the shoulder, palm out, waving; the "
        "left arm hangs relaxed. Friendly smile.",
        "waving, wave, hello, friendly, standing, hand up",
        BodyPose(turn=-10, head_tilt=-5).with_limbs(R_WAVE),
    ),
    pose(
        "Hands in Back Pockets",
        EVERYDAY,
        "Turned three-quarter away with both hands tucked into the back pockets, elbows pointing back. Head "
        "turned back toward the camera.",
        "hands in back pockets, standing, casual, relaxed",
        BodyPose(turn=30, head_turn=-20).with_limbs(arms((15, -35), (-25, -30))),
    ),
    pose(
        "Scratching the Head",
        EVERYDAY,
        "The right hand scratches the back of the head with the elbow raised to the side, the left arm "
        "hanging. Head tilted in a puzzled way.",
        "scratching head, confused, puzzled, casual, hand on head",
        BodyPose(turn=10, head_tilt=-10).with_limbs(
            right_arm((125, -30), (-104, 9)), left_leg((4, 8), (0, -6))
        ),
    ),
    pose(
        "Shrugging",
        EVERYDAY,
        "Elbows tucked at the sides with both forearms turned out and the palms up in a shrug. Head tilted "
        "to one side, feet hip-width apart.",
        "shrug, palms up, casual, gesture, unsure",
        BodyPose(head_tilt=10).with_limbs(arms((10, 10), (70, 60))),
    ),
    pose(
        "Hands Behind the Back",
        EVERYDAY,
        "Standing tall, turned well away from the camera, with both hands clasped behind the lower back "
        "and the head turned to look ahead.",
        "hands behind back, standing, calm, casual, posture",
        BodyPose(turn=40, head_turn=-10, r_thigh=(2, 0), l_thigh=(2, 0)).with_limbs(HANDS_BEHIND_BACK),
    ),
    pose(
        "Selfie Arm Extended",
        SOCIAL,
        "The right arm reaches high up and forward, holding the phone above the head for a selfie, the left "
        "hand on the hip. Face tilted up toward the phone.",
        "selfie, phone, arm extended, social media, smile",
        BodyPose(turn=-10, head_tilt=-8, head_nod=-15).with_limbs(right_arm((130, 40), (140, 40)), L_ON_HIP),
        featured=True,
    ),
    pose(
        "Peace Sign by the Face",
        SOCIAL,
        "Body angled with the hip popped, the right hand making a peace sign beside the cheek and the left "
        "hand on the hip. Head tilted toward the hand.",
        "peace sign, hand, playful, social media, standing",
        BodyPose(turn=20, head_tilt=-12, r_thigh=(-3, 0)).with_limbs(
            right_arm((25, 15), (200, 5)), left_leg((8, 12), (0, -12)), L_ON_HIP
        ),
        gender=GenderSuitability.FEMALE,
    ),
    pose(
        "Star Jump",
        SOCIAL,
        "Mid-air in a star shape, both arms flung up and out and both legs spread wide. Chin up, big smile.",
        "star jump, jumping, jump, arms up, energetic, social media",
        BodyPose(head_nod=-8).with_limbs(arms((135, 0), (140, 0)), legs((28, 0), (30, 0))),
        difficulty=Difficulty.ADVANCED,
        premium=True,
    ),
    pose(
        "Blowing a Kiss",
        SOCIAL,
        "The right hand moves forward from the lips to blow a kiss, the left arm relaxed. Body angled, "
        "leaning slightly toward the camera with the head tilted.",
        "blowing a kiss, kiss, hand, social media, flirty",
        BodyPose(turn=25, lean=5, head_turn=-15, head_tilt=-8).with_limbs(right_arm((20, 60), (185, 55))),
        gender=GenderSuitability.FEMALE,
    ),
    pose(
        "Mirror Selfie",
        SOCIAL,
        "Holding the phone up in front of the face with the right hand, the left forearm across the waist "
        "and the hip popped to the side.",
        "mirror selfie, phone, social media, outfit, standing",
        BodyPose(turn=20, bend=-5).with_limbs(
            right_arm((15, 40), (210, 40)), left_arm((5, 15), (-70, 45)), left_leg((-5, 15), (0, -12))
        ),
    ),
    pose(
        "Hair Flip",
        SOCIAL,
        "The head tossed back and to the side, the right hand running through the hair above the head and "
        "the left arm out for balance.",
        "hair flip, hair, dynamic, social media, glam",
        BodyPose(bend=8, head_nod=-20, head_tilt=20).with_limbs(
            right_arm((150, 0), (230, 0)), left_arm((40, 0), (45, 10))
        ),
        difficulty=Difficulty.INTERMEDIATE,
        gender=GenderSuitability.FEMALE,
        premium=True,
    ),
    pose(
        "Laughing Lean Back",
        SOCIAL,
        "Leaning back from the hips in laughter, both hands on the belly and the head thrown back. Feet "
        "planted hip-width apart.",
        "laughing, lean back, candid, social media, joy",
        BodyPose(turn=-20, lean=-15, head_nod=-25, r_thigh=(3, 10), l_thigh=(3, 10)).with_limbs(
            arms((15, 20), (-70, 40))
        ),
    ),
    pose(
        "Arms Overhead Heart",
        SOCIAL,
        "Both arms arc up over the head so the fingertips meet in a big heart shape. Standing square, head "
        "tilted with a smile.",
        "heart, arms overhead, arms up, social media, cute",
        BodyPose(head_tilt=8).with_limbs(arms((165, 0), (230, 0))),
    ),
    pose(
        "Arms Wide Freedom",
        OUTDOOR,
        "Standing with the feet apart and both arms flung wide and high, the chest open and the face "
        "tipped up to the sky.",
        "arms wide, freedom, outdoors, travel, arms up, happy",
        BodyPose(head_nod=-20, r_thigh=(10, 0), l_thigh=(10, 0)).with_limbs(arms((115, -5), (125, -5))),
    ),
    pose(
        "Hiking Step Up",
        OUTDOOR,
        "Side-on, stepping the right foot up onto a rock with the right hand on the right knee and the "
        "torso leaning into the climb. Left arm swinging back.",
        "hiking, step up, outdoors, climbing, adventure",
        BodyPose(turn=70, lean=15, head_turn=-20).with_limbs(
            right_arm((0, 45), (0, 10)),
            left_arm((5, -30), (0, -10)),
            right_leg((0, 70), (0, -10)),
            left_leg((0, -10), (0, -5)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Taking in the View",
        OUTDOOR,
        "Turned away toward the horizon, the right hand shading the eyes at the forehead and the left hand "
        "on the hip. Weight on the back leg.",
        "view, shading eyes, outdoors, travel, looking",
        BodyPose(turn=60).with_limbs(right_arm((40, 40), (215, 10)), right_leg((0, 12), (0, -5)), L_ON_HIP),
    ),
    pose(
        "Sitting on the Grass",
        OUTDOOR,
        "Sitting on the ground with both legs stretched straight forward, leaning back on the hands placed "
        "behind the hips. Head tipped back to the sun.",
        "sitting, grass, outdoors, relaxed, legs stretched",
        BodyPose(turn=60, lean=-15, head_nod=-15).with_limbs(
            arms((15, -40), (10, -20)), legs((5, 88), (5, 88))
        ),
    ),
    pose(
        "Lying on the Grass",
        OUTDOOR,
        "Lying on the back seen from above, hands laced behind the head with the elbows out and the left "
        "knee raised.",
        "lying, grass, outdoors, relaxed, hands behind head",
        BodyPose(roll=90, head_turn=-10).with_limbs(left_leg((0, 45), (0, -45)), HANDS_BEHIND_HEAD),
    ),
    pose(
        "Leaning on a Tree",
        OUTDOOR,
        "Leaning sideways against a tree trunk, the right forearm resting on the trunk above the head and "
        "the left leg crossed over the right. Head turned to the camera.",
        "leaning, tree, outdoors, relaxed, legs crossed",
        BodyPose(turn=-20, bend=-10, head_turn=15, l_arm=(10, 5)).with_limbs(
            right_arm((140, 0), (190, 0)), left_leg((-10, 5), (-12, 0))
        ),
    ),
    pose(
        "Beach Stroll",
        OUTDOOR,
        "Strolling barefoot along the shore, hands clasped behind the back, the head turned to look out "
        "over the water.",
        "beach, walking, stroll, outdoors, hands behind back",
        BodyPose(turn=-50, head_turn=-30).with_limbs(
            right_leg((0, 20), (0, 5)), left_leg((0, -12), (0, -30)), HANDS_BEHIND_BACK
        ),
    ),
    pose(
        "Sitting on Chair",
        SITTING,
        "Sitting upright on a chair angled to the camera, hips and knees bent at right angles with the "
        "thighs level and the shins straight down. Hands resting on the thighs, head facing the camera.",
        "sitting on chair, sitting, seated, chair, relaxed",
        BodyPose(turn=30, head_turn=-20).with_limbs(arms((5, 30), (5, 80)), SEATED),
        featured=True,
    ),
    pose(
        "Cross-Legged on the Floor",
        SITTING,
        "Sitting on the floor with the legs crossed, knees out to the sides, leaning back on both hands "
        "placed behind. Head tilted, relaxed.",
        "cross-legged, sitting, floor, relaxed, casual",
        BodyPose(lean=-10, head_tilt=8).with_limbs(arms((20, -30), (5, -20)), LEGS_CROSSED_ON_FLOOR),
    ),
    pose(
        "Hugging the Knees",
        SITTING,
        "Sitting on the floor, side-on, with the knees drawn up to the chest and both arms wrapped around "
        "the shins. Head resting forward.",
        "hugging knees, sitting, floor, cozy, relaxed",
        BodyPose(turn=60, lean=20, head_turn=-20).with_limbs(
            arms((10, 40), (-30, 60)), legs((180, 70), (0, -20))
        ),
    ),
    pose(
        "Lounging with Hands Behind Head",
        SITTING,
        "Reclined in a chair with the hands laced behind the head, elbows wide, and the legs stretched out "
        "and crossed at the ankles.",
        "lounging, hands behind head, reclined, relaxed, sitting",
        BodyPose(turn=40, lean=-25).with_limbs(
            right_leg((0, 70), (-6, 40)), left_leg((0, 70), (-2, 40)), HANDS_BEHIND_HEAD
        ),
        gender=GenderSuitability.MALE,
    ),
    pose(
        "Elbows on Knees",
        SITTING,
        "Sitting on the edge of a seat, leaning well forward with the elbows resting on the knees and the "
        "hands clasped between them. Head up.",
        "elbows on knees, leaning forward, sitting, casual, thoughtful",
        BodyPose(turn=30, lean=50, head_nod=-35).with_limbs(arms((-7, 6), (-40, 60)), SEATED),
        gender=GenderSuitability.MALE,
    ),
    pose(
        "Sitting with One Knee Up",
        SITTING,
        "Sitting on the floor, the right knee drawn up with the right forearm resting on it, the left leg "
        "folded flat and the left hand on the floor behind.",
        "sitting, knee up, floor, relaxed, casual",
        BodyPose(turn=40, head_turn=-25).with_limbs(
            right_arm((10, 50), (5, 80)),
            left_arm((20, -30), (5, -10)),
            right_leg((180, 70), (0, -20)),
            left_leg((70, 60), (-80, 20)),
        ),
    ),
    pose(
        "Reclining on an Elbow",
        SITTING,
        "Lying on the left side facing the camera, propped up on the left elbow with the right hand resting "
        "on the hip. The top knee is bent forward.",
        "reclining, lying, elbow, relaxed, lounging",
        BodyPose(roll=70).with_limbs(
            right_arm((20, 0), (-30, 0)),
            left_arm((70, 0), (160, 0)),
            right_leg((0, 40), (0, -30)),
            left_leg((0, 0), (0, 0)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
        premium=True,
    ),
    pose(
        "Reading a Book",
        SITTING,
        "Sitting on a chair with the right leg crossed over the left, both hands holding an open book in "
        "front of the chest and the head bowed to read.",
        "reading, book, sitting, chair, relaxed",
        BodyPose(turn=30, head_nod=25).with_limbs(
            arms((8, 25), (-20, 75)), right_leg((-14, 80), (-18, 5)), left_leg((5, 85), (0, 0))
        ),
    ),
)
