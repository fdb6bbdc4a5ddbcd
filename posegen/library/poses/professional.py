"""Professional poses: business portraits, headshots, speaking and the office."""

from __future__ import annotations

from posegen.library.poses._spec import (
    ARMS_CROSSED,
    HANDS_CLASPED,
    HANDS_IN_POCKETS,
    HANDS_TOGETHER_OVERHEAD,
    HOLDING_AT_CHEST,
    L_IN_POCKET,
    L_ON_HIP,
    L_TO_CHIN,
    R_IN_POCKET,
    R_MUG,
    R_TO_CHIN,
    R_TO_EAR,
    R_TO_MOUTH,
    SEATED,
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
from posegen.library.taxonomy import Difficulty, Framing, GenderSuitability

BUSINESS = "business-portraits"
HEADSHOTS = "corporate-headshots"
SPEAKING = "conference-speaking"
OFFICE = "office-workspace"

POSES: tuple[PoseSpec, ...] = (
    pose(
        "Arms Crossed",
        BUSINESS,
        "Standing square to the camera, feet hip-width apart, forearms folded across the chest with each "
        "hand tucked at the opposite elbow. Head level, shoulders relaxed.",
        "arms crossed, standing, confident, business, professional",
        BodyPose(head_tilt=3).with_limbs(ARMS_CROSSED),
        featured=True,
    ),
    pose(
        "100% Confident Power Stance",
        BUSINESS,
        "Feet planted wide, legs straight, hands on the hips with the elbows pointing out. Chest open and "
        "chin slightly raised toward the camera.",
        "power stance, hands on hips, confident, standing, leadership",
        BodyPose(head_nod=-8).with_limbs(arms((40, -15), (-45, -10)), legs((12, 0), (6, 0))),
    ),
    pose(
        "Hands in Pockets",
        BUSINESS,
        "Body turned slightly to the side with both hands in the front trouser pockets, elbows bent "
        "outward. Head turned back to face the camera.",
        "hands in pockets, standing, relaxed, business, smart casual",
        BodyPose(turn=15, head_turn=-12, l_thigh=(6, 5)).with_limbs(HANDS_IN_POCKETS),
    ),
    pose(
        "One Hand in Pocket",
        BUSINESS,
        "Three-quarter turn with the right hand in the trouser pocket and the left arm hanging loose. "
        "Weight on the back leg, front knee softly bent, head facing the camera.",
        "hand in pocket, three-quarter, standing, relaxed, business",
        BodyPose(turn=30, head_turn=-25, r_thigh=(-2, 0)).with_limbs(left_leg((2, 12), (2, -8)), R_IN_POCKET),
    ),
    pose(
        "Buttoning the Jacket",
        BUSINESS,
        "Standing at a slight angle, both hands meeting at the waist to fasten the jacket button, elbows "
        "out. Head tipped down toward the hands.",
        "jacket, suit, hands, standing, business, formal",
        BodyPose(turn=20, head_nod=18).with_limbs(
            right_arm((12, 15), (-70, 45)), left_arm((12, 15), (-75, 40))
        ),
        gender=GenderSuitability.MALE,
    ),
    pose(
        "Hands Clasped in Front",
        BUSINESS,
        "Upright and square to the camera, arms relaxed and the hands clasped low in front of the body. "
        "Feet together, head level.",
        "hands clasped, standing, formal, polite, business",
        BodyPose().with_limbs(legs((1, 0), (0, 0)), HANDS_CLASPED),
    ),
    pose(
        "Three-Quarter Turn Smile",
        BUSINESS,
        "Body turned about forty degrees away with the arms relaxed at the sides and the front knee soft. "
        "The head turns back over the near shoulder toward the camera.",
        "three-quarter, turned, standing, smile, business, natural",
        BodyPose(turn=40, head_turn=-35, head_tilt=-5, r_arm=(5, -5)).with_limbs(left_leg((3, 10), (0, -6))),
    ),
    pose(
        "Seated Executive",
        BUSINESS,
        "Sitting upright on a chair turned slightly away, the right leg crossed over the left knee. Both "
        "hands rest on the thighs, head facing the camera.",
        "sitting, seated, chair, legs crossed, executive, business",
        BodyPose(turn=25, head_turn=-20).with_limbs(
            right_arm((5, 30), (10, 80)),
            left_arm((5, 30), (-5, 80)),
            right_leg((-14, 80), (-18, 5)),
            left_leg((5, 85), (0, 0)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Classic Headshot",
        HEADSHOTS,
        "Head and shoulders, square to the camera, shoulders level and the head upright with the chin "
        "slightly forward and down.",
        "headshot, portrait, front, professional, profile photo",
        BodyPose(head_nod=4),
        framing=Framing.PORTRAIT,
        featured=True,
    ),
    pose(
        "Three-Quarter Headshot",
        HEADSHOTS,
        "Shoulders turned about thirty-five degrees from the camera while the face turns back toward the "
        "lens. Head upright.",
        "headshot, portrait, three-quarter, professional, turned",
        BodyPose(turn=35, head_turn=-25),
        framing=Framing.PORTRAIT,
    ),
    pose(
        "Friendly Head Tilt",
        HEADSHOTS,
        "Head and shoulders with the shoulders angled a little and the head tilted toward the left "
        "shoulder. A warm, approachable look.",
        "headshot, head tilt, friendly, portrait, approachable",
        BodyPose(turn=-15, head_turn=10, head_tilt=14),
        framing=Framing.PORTRAIT,
    ),
    pose(
        "Over the Shoulder Glance",
        HEADSHOTS,
        "Shoulders turned nearly side-on to the camera, the head turning back over the near shoulder to "
        "look into the lens.",
        "over the shoulder, headshot, portrait, side, glance",
        BodyPose(turn=75, head_turn=-60, head_tilt=-4),
        framing=Framing.PORTRAIT,
        difficulty=Difficulty.INTERMEDIATE,
        premium=True,
    ),
    pose(
        "Chin on Hand",
        HEADSHOTS,
        "Waist-up at a table, the right elbow propped forward and the chin resting on the right hand while "
        "the left forearm lies across the table.",
        "chin on hand, thoughtful, upper body, seated, headshot",
        BodyPose(turn=25, lean=10, head_tilt=-6).with_limbs(left_arm((5, 45), (-80, 35)), R_TO_CHIN),
        framing=Framing.UPPER_BODY,
    ),
    pose(
        "Crossed Arms Headshot",
        HEADSHOTS,
        "Waist-up, the body turned a little to the side with the arms folded across the chest. Head turned "
        "toward the camera and slightly tilted.",
        "arms crossed, headshot, upper body, confident, professional",
        BodyPose(turn=-20, head_turn=15, head_tilt=-5).with_limbs(ARMS_CROSSED),
        framing=Framing.UPPER_BODY,
    ),
    pose(
        "Leaning In Headshot",
        HEADSHOTS,
        "Waist-up, the torso leaning toward the camera with both forearms resting forward on a desk and the "
        "hands together. Head up, engaged.",
        "leaning, engaged, upper body, desk, headshot",
        BodyPose(turn=25, lean=22, head_turn=-15, head_nod=-15).with_limbs(arms((12, 45), (-50, 80))),
        framing=Framing.UPPER_BODY,
    ),
    pose(
        "Hand at Collar",
        HEADSHOTS,
        "Waist-up, the right hand reaches across to straighten the left collar while the left arm hangs. "
        "Shoulders slightly turned, head upright.",
        "collar, hand, upper body, headshot, smart",
        BodyPose(turn=12, head_turn=-8).with_limbs(right_arm((5, 30), (-130, 40))),
        framing=Framing.UPPER_BODY,
    ),
    pose(
        "Open Palm Gesture",
        SPEAKING,
        "Standing square to the audience, both forearms extended forward and out at waist height with the "
        "palms open. Feet shoulder-width apart.",
        "open palms, gesture, presenting, speaking, standing",
        BodyPose(r_thigh=(7, 0), l_thigh=(7, 0)).with_limbs(arms((18, 25), (35, 75))),
    ),
    pose(
        "Pointing to the Audience",
        SPEAKING,
        "Body angled a little, the right arm extended forward and to the side pointing out into the room. "
        "Left hand relaxed at the waist, weight on the back foot.",
        "pointing, point, audience, speaking, arms, gesture",
        BodyPose(turn=-15, r_thigh=(3, 10)).with_limbs(
            right_arm((70, 40), (75, 45)), left_arm((10, 15), (-30, 60))
        ),
    ),
    pose(
        "Holding a Microphone",
        SPEAKING,
        "Standing relaxed, the right hand holding a microphone just below the chin and the left hand open "
        "in a small gesture beside the body.",
        "microphone, speaking, standing, stage, gesture",
        BodyPose(turn=10).with_limbs(left_arm((25, 10), (55, 60)), left_leg((5, 8), (0, -5)), R_TO_MOUTH),
    ),
    pose(
        "Presenting to the Screen",
        SPEAKING,
        "Body toward the audience with the left arm stretched out to the side at shoulder height, "
        "indicating a screen. Head turned back toward the audience.",
        "presenting, screen, arm extended, speaking, pointing",
        BodyPose(turn=25, head_turn=-20).with_limbs(
            right_arm((10, 10), (-20, 50)), left_arm((85, -10), (88, -10))
        ),
    ),
    pose(
        "Stage Walk with Mic",
        SPEAKING,
        "Walking across the stage mid-stride, the right hand holding the microphone near the mouth and the "
        "left arm swinging forward. Head toward the audience.",
        "walking, stage, microphone, speaking, stride",
        BodyPose(turn=-65, head_turn=50).with_limbs(
            left_arm((5, 25), (0, 40)), right_leg((0, -15), (0, -40)), left_leg((0, 25), (0, 8)), R_TO_MOUTH
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Podium Lean",
        SPEAKING,
        "Leaning slightly forward with both hands resting on the edges of a lectern in front of the waist. "
        "Head up, addressing the audience.",
        "podium, lectern, leaning, speaking, hands",
        BodyPose(lean=15, head_nod=-12).with_limbs(arms((10, 40), (20, 55))),
    ),
    pose(
        "Arms Wide Welcome",
        SPEAKING,
        "Standing tall with both arms opened wide to the sides and slightly raised, palms toward the "
        "audience. Chin up, feet apart.",
        "arms wide, welcome, open, speaking, standing, confident",
        BodyPose(head_nod=-6, r_thigh=(7, 0)).with_limbs(arms((100, 15), (110, 15))),
        premium=True,
    ),
    pose(
        "Counting on Fingers",
        SPEAKING,
        "Standing square with both hands raised in front of the chest, the left index finger counting off "
        "the fingers of the right hand. Elbows bent at the sides.",
        "counting, hands, gesture, explaining, speaking",
        BodyPose(head_tilt=-4).with_limbs(right_arm((10, 20), (175, 80)), left_arm((12, 25), (-60, 80))),
    ),
    pose(
        "Typing at the Desk",
        OFFICE,
        "Seated at a desk angled to the camera, both forearms reaching forward at elbow height to a "
        "keyboard. Head slightly lowered toward the screen.",
        "typing, desk, sitting, laptop, office, working",
        BodyPose(turn=35, head_nod=10).with_limbs(arms((5, 30), (-5, 88)), SEATED),
    ),
    pose(
        "Writing on the Whiteboard",
        OFFICE,
        "Standing side-on to a whiteboard with the right arm raised forward and up, marker on the board. "
        "Left hand on the hip, head turned toward the camera.",
        "whiteboard, writing, reaching, office, standing, teaching",
        BodyPose(turn=-70, head_turn=45).with_limbs(right_arm((180, 55), (180, 70)), L_ON_HIP),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Standing Phone Call",
        OFFICE,
        "Standing at a slight angle with the right hand holding a phone to the ear and the left hand in "
        "the pocket. Head tilted into the call.",
        "phone call, standing, office, talking, hand to ear",
        BodyPose(turn=20, head_tilt=-8).with_limbs(right_leg((3, 8), (0, -5)), R_TO_EAR, L_IN_POCKET),
    ),
    pose(
        "Leaning on the Desk Edge",
        OFFICE,
        "Half-sitting against the front edge of a desk, hands resting on the desk beside the hips and the "
        "legs stretched forward, crossed at the ankles.",
        "leaning, desk, relaxed, office, legs crossed",
        BodyPose(turn=20, lean=-4).with_limbs(
            arms((15, -25), (5, -20)), right_leg((-6, 25), (-10, 18)), left_leg((0, 25), (-4, 18))
        ),
    ),
    pose(
        "Reviewing Documents",
        OFFICE,
        "Standing with both forearms held forward at chest height holding papers, and the head bowed to "
        "read them. Feet together.",
        "reading, documents, papers, standing, office",
        BodyPose(head_nod=28).with_limbs(HOLDING_AT_CHEST),
    ),
    pose(
        "Coffee Break",
        OFFICE,
        "Standing turned a little with the weight on one leg, the right hand holding a mug up in front of "
        "the chest and the left hand in the pocket.",
        "coffee, mug, standing, relaxed, office, break",
        BodyPose(turn=30, head_turn=-20).with_limbs(left_leg((5, 10), (2, -8)), R_MUG, L_IN_POCKET),
    ),
    pose(
        "Thinking at the Desk",
        OFFICE,
        "Seated at a desk, the left elbow propped forward with the chin on the left hand and the right "
        "forearm lying on the desk. Head tilted, gaze off to the side.",
        "thinking, desk, sitting, chin on hand, office",
        BodyPose(turn=-30, head_turn=20, head_tilt=8).with_limbs(
            right_arm((5, 40), (-60, 80)), L_TO_CHIN, SEATED
        ),
    ),
    pose(
        "Stretching at the Desk",
        OFFICE,
        "Sitting back on the office chair with both arms stretched straight overhead, hands together, and "
        "the torso leaning slightly back.",
        "stretching, stretch, sitting, arms up, office, break",
        BodyPose(turn=30, lean=-8, head_turn=-20, head_nod=-10).with_limbs(
            legs((8, 85), (3, -5)), HANDS_TOGETHER_OVERHEAD
        ),
    ),
    pose(
        "Ankle on Knee Seated",
        OFFICE,
        "Sitting back in an office chair with the right ankle resting on the left knee, the right knee out "
        "to the side, both hands holding a report at chest height. Head bowed to read.",
        "sitting, seated, chair, legs crossed, reading, office",
        BodyPose(turn=-25, head_nod=20).with_limbs(
            right_leg((50, 75), (-80, 10)), left_leg((5, 85), (0, 0)), HOLDING_AT_CHEST
        ),
        gender=GenderSuitability.MALE,
    ),
)
