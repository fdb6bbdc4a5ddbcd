"""Hijab poses: casual, professional, fashion and wedding; modest poses suited to women."""

from __future__ import annotations

from functools import partial

from posegen.library.poses._spec import (
    ARMS_CROSSED,
    HANDS_CLASPED,
    HANDS_ON_LAP,
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
from posegen.library.taxonomy import Difficulty, Framing, GenderSuitability

CASUAL = "casual-hijab"
PROFESSIONAL = "professional-hijab"
FASHION = "fashion-hijab"
WEDDING = "wedding-hijab"

hijab_pose = partial(pose, gender=GenderSuitability.FEMALE)

# Sitting with the thighs toward the camera, knees together and the shins slanted back a little.
SEATED_KNEES_TOGETHER: Limbs = {
    "r_thigh": (0, 85),
    "r_shin": (-3, -5),
    "l_thigh": (0, 85),
    "l_shin": (-3, -5),
}
# Both hands hold a bouquet (or a clutch) in front of the waist, elbows slightly out.
BOUQUET: Limbs = {"r_arm": (15, 20), "r_fore": (-60, 60), "l_arm": (15, 20), "l_fore": (-60, 60)}
# The left forearm holds a folder flat against the chest.
L_FOLDER: Limbs = {"l_arm": (5, 15), "l_fore": (-110, 40)}

POSES: tuple[PoseSpec, ...] = (
    hijab_pose(
        "Adjusting the Hijab",
        CASUAL,
        "The right hand raised to the side of the head, elbow out, tucking in the hijab while the left hand "
        "pins the drape at the chest. Head tilted slightly, body turned a little.",
        "hijab, adjusting, hands to face, casual, standing",
        BodyPose(turn=15, head_tilt=6).with_limbs(
            right_arm((60, 10), (200, -10)), left_arm((10, 20), (-130, 35))
        ),
        featured=True,
    ),
    hijab_pose(
        "Relaxed Hijab Stroll",
        CASUAL,
        "Walking at an easy pace angled to the camera, the right hand holding a bag strap at the shoulder "
        "and the left arm swinging forward. Head turned toward the camera.",
        "walking, stroll, hijab, casual, bag",
        BodyPose(turn=-40, head_turn=25).with_limbs(
            right_arm((5, 10), (200, 20)),
            left_arm((5, 25), (0, 40)),
            right_leg((0, -12), (0, -35)),
            left_leg((0, 22), (0, 5)),
        ),
    ),
    hijab_pose(
        "Reaching Up to a Shelf",
        CASUAL,
        "Side-on to a shelf, stretching the right arm straight up and forward to take something down, the "
        "left hand resting at the chest and the heels slightly lifted.",
        "reaching, reach, arm up, hijab, casual, stretching",
        BodyPose(turn=-60, head_nod=-15).with_limbs(
            right_arm((175, 25), (178, 25)), left_arm((10, 20), (-130, 35)), legs((0, 0), (0, -8))
        ),
    ),
    hijab_pose(
        "Soft Smile Hands Clasped",
        CASUAL,
        "Body turned to the side with the hands clasped loosely in front, the front knee softly bent. Head "
        "turned back and tilted with a gentle smile.",
        "hands clasped, smile, hijab, casual, gentle",
        BodyPose(turn=25, head_turn=-15, head_tilt=8).with_limbs(left_leg((3, 10), (0, -8)), HANDS_CLASPED),
    ),
    hijab_pose(
        "Looking at the Phone",
        CASUAL,
        "Standing at an angle, the right hand holding a phone in front of the chest and the head bowed to "
        "read it. The left arm hangs loosely, weight on one leg.",
        "phone, looking down, hijab, casual, standing",
        BodyPose(turn=-25, head_nod=28).with_limbs(right_arm((5, 20), (-30, 80)), right_leg((4, 8), (0, -6))),
    ),
    hijab_pose(
        "Leaning on a Railing",
        CASUAL,
        "Leaning forward on a railing with both forearms resting on it at chest height, the left foot "
        "crossed behind the right. Head turned toward the camera.",
        "leaning, railing, hijab, casual, relaxed",
        BodyPose(turn=45, lean=20, head_turn=-35).with_limbs(
            arms((10, 60), (-30, 85)), left_leg((-6, -5), (-8, -25))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    hijab_pose(
        "Sitting on a Bench",
        CASUAL,
        "Sitting on a bench with the legs stretched forward and crossed at the ankles, hands resting on "
        "the bench at either side. Body angled, head turned to the camera.",
        "sitting, bench, hijab, casual, relaxed",
        BodyPose(turn=-40, head_turn=25).with_limbs(
            arms((20, -10), (10, 0)), right_leg((0, 80), (-8, 30)), left_leg((0, 80), (-4, 30))
        ),
    ),
    hijab_pose(
        "Confident Folded Arms",
        PROFESSIONAL,
        "Standing turned a little to the side with the arms folded across the chest and the weight on the "
        "back leg. Head turned to the camera, chin level.",
        "arms crossed, confident, hijab, professional, standing",
        BodyPose(turn=-30, head_turn=20).with_limbs(right_leg((3, 10), (0, -8)), ARMS_CROSSED),
        featured=True,
    ),
    hijab_pose(
        "Holding a Tablet",
        PROFESSIONAL,
        "The left forearm cradles a tablet against the waist while the right arm hangs relaxed. Body "
        "slightly turned, head up and facing the camera.",
        "tablet, holding, hijab, professional, standing, office",
        BodyPose(turn=20, head_turn=-10).with_limbs(left_arm((5, 10), (-70, 50)), right_leg((3, 8), (0, -6))),
    ),
    hijab_pose(
        "Hijab Professional Headshot",
        PROFESSIONAL,
        "Head and shoulders with the shoulders angled away and the face turned back to the camera, head "
        "tilted slightly. Calm and approachable.",
        "headshot, portrait, hijab, professional, profile photo",
        BodyPose(turn=-25, head_turn=18, head_tilt=5),
        framing=Framing.PORTRAIT,
    ),
    hijab_pose(
        "Presenting with an Open Hand",
        PROFESSIONAL,
        "Body angled, the right arm extended forward and out with an open palm while the left forearm "
        "holds a folder against the chest. Head toward the audience.",
        "presenting, open hand, hijab, professional, folder",
        BodyPose(turn=30, head_turn=-20).with_limbs(right_arm((50, 30), (70, 60)), L_FOLDER),
    ),
    hijab_pose(
        "Hands Folded on the Desk",
        PROFESSIONAL,
        "Waist-up, seated upright at a desk with both forearms resting on it and the hands folded "
        "together. Head tilted a little, friendly expression.",
        "desk, hands folded, hijab, professional, upper body, seated",
        BodyPose(head_tilt=5).with_limbs(arms((10, 30), (-60, 80))),
        framing=Framing.UPPER_BODY,
    ),
    hijab_pose(
        "Steepled Fingers",
        PROFESSIONAL,
        "Waist-up, elbows at the sides and the forearms raised so the fingertips touch in front of the "
        "chest. Body slightly turned, head level.",
        "steepled fingers, hands, hijab, professional, upper body, thoughtful",
        BodyPose(turn=15, head_turn=-10).with_limbs(arms((15, 30), (215, 50))),
        framing=Framing.UPPER_BODY,
        premium=True,
    ),
    hijab_pose(
        "Walking with a Folder",
        PROFESSIONAL,
        "Walking briskly at an angle, the left forearm holding a folder against the chest and the right "
        "arm swinging. Head facing forward.",
        "walking, folder, hijab, professional, office",
        BodyPose(turn=50).with_limbs(
            right_arm((5, 25), (0, 40)), right_leg((0, -15), (0, -35)), left_leg((0, 25), (0, 5)), L_FOLDER
        ),
    ),
    hijab_pose(
        "Flowing Abaya Twirl",
        FASHION,
        "Caught mid-twirl with both arms held out low so the abaya flares, one foot lifted behind. Head "
        "tilted, body turned.",
        "twirl, abaya, flowing, hijab, fashion, movement",
        BodyPose(turn=30, head_tilt=10).with_limbs(arms((60, 0), (70, 0)), left_leg((5, -10), (5, -60))),
        difficulty=Difficulty.INTERMEDIATE,
        featured=True,
    ),
    hijab_pose(
        "Holding Out the Shawl",
        FASHION,
        "The right arm extends out and down to the side, holding the edge of the shawl wide, while the left "
        "hand rests at the chest. Head turned toward the fabric.",
        "shawl, fabric, arm out, hijab, fashion",
        BodyPose(head_turn=-40).with_limbs(right_arm((60, 10), (60, 10)), left_arm((10, 20), (-120, 40))),
    ),
    hijab_pose(
        "Modest Contrapposto",
        FASHION,
        "Weight on the left leg with the right knee bent forward, the right hand lightly holding the hijab "
        "edge at the chest and the left arm long. Body angled.",
        "contrapposto, hijab, fashion, elegant, standing",
        BodyPose(turn=20, head_tilt=-6).with_limbs(
            right_arm((10, 20), (-150, 35)), right_leg((-2, 15), (0, -12))
        ),
    ),
    hijab_pose(
        "Hijab Over the Shoulder Look",
        FASHION,
        "Back mostly to the camera, both hands holding the ends of the hijab at the chest, the head turned "
        "back over the shoulder toward the lens.",
        "over the shoulder, back view, hijab, fashion, elegant",
        BodyPose(turn=135, head_turn=-85).with_limbs(arms((10, 20), (-110, 40))),
        difficulty=Difficulty.INTERMEDIATE,
        premium=True,
    ),
    hijab_pose(
        "Seated Legs Crossed Elegantly",
        FASHION,
        "Sitting on a chair angled away, the left leg crossed over the right knee and both hands clasped "
        "on the top knee. Head tilted toward the camera.",
        "sitting, legs crossed, chair, hijab, fashion, elegant",
        BodyPose(turn=-35, head_turn=25, head_tilt=8).with_limbs(
            right_arm((0, 35), (-45, 70)),
            left_arm((5, 35), (-30, 70)),
            right_leg((5, 85), (0, 0)),
            left_leg((-14, 80), (-18, 5)),
        ),
    ),
    hijab_pose(
        "Fashion Hijab Street Walk",
        FASHION,
        "Walking toward the camera at a slight angle with a handbag in the crook of the right elbow and the "
        "left arm swinging back. Chin up.",
        "walking, handbag, street, hijab, fashion",
        BodyPose(turn=-20, head_nod=-5).with_limbs(
            right_arm((8, 5), (10, 90)),
            left_arm((5, -25), (0, -10)),
            right_leg((0, 25), (0, 5)),
            left_leg((0, -12), (0, -30)),
        ),
    ),
    hijab_pose(
        "Gazing Upward",
        FASHION,
        "Standing at an angle with the hands clasped together at the chest and the face lifted upward, "
        "eyes to the sky. Feet together.",
        "looking up, dreamy, hands at chest, hijab, fashion",
        BodyPose(turn=20, head_nod=-25).with_limbs(arms((10, 20), (-100, 50))),
    ),
    hijab_pose(
        "Bridal Bouquet Hold",
        WEDDING,
        "Standing square to the camera with both hands holding the bouquet in front of the waist, elbows "
        "relaxed. Feet together, head gently tilted.",
        "bouquet, bride, wedding, hijab, standing, elegant",
        BodyPose(head_tilt=6, r_thigh=(1, 0), l_thigh=(1, 0)).with_limbs(BOUQUET),
        featured=True,
    ),
    hijab_pose(
        "Lifting the Veil",
        WEDDING,
        "Both hands raised to the sides of the head holding the edges of the veil, elbows out. Body square "
        "to the camera, head slightly bowed.",
        "veil, bride, wedding, hijab, hands up",
        BodyPose(head_nod=8).with_limbs(arms((60, 20), (170, 10))),
        premium=True,
    ),
    hijab_pose(
        "Looking Down at the Bouquet",
        WEDDING,
        "Body turned about thirty degrees, holding the bouquet at the waist with both hands and looking "
        "down at it, the front knee softly bent.",
        "bouquet, looking down, bride, wedding, hijab",
        BodyPose(turn=30, head_nod=30, head_turn=-10).with_limbs(left_leg((3, 10), (0, -8)), BOUQUET),
    ),
    hijab_pose(
        "Bridal Aisle Walk",
        WEDDING,
        "A small, slow step down the aisle toward the camera, the bouquet held at the waist with both "
        "hands. Head level, calm expression.",
        "walking, aisle, bride, wedding, hijab, bouquet",
        BodyPose(turn=15).with_limbs(right_leg((0, 15), (0, 3)), left_leg((0, -8), (0, -22)), BOUQUET),
    ),
    hijab_pose(
        "Seated Bride",
        WEDDING,
        "Sitting on a chair turned to one side, knees together, hands resting together on the lap. Head "
        "turned back to the camera and tilted.",
        "sitting, seated, bride, wedding, hijab, chair",
        BodyPose(turn=30, head_turn=-20, head_tilt=-8).with_limbs(SEATED_KNEES_TOGETHER, HANDS_ON_LAP),
    ),
    hijab_pose(
        "Showing the Ring",
        WEDDING,
        "The left hand raised in front of the chest with the back of the hand toward the camera to show the "
        "ring, the right hand cupped beneath it. Head tilted.",
        "ring, hand, bride, wedding, hijab, engagement",
        BodyPose(head_tilt=8).with_limbs(right_arm((10, 25), (-70, 60)), left_arm((10, 30), (190, 40))),
    ),
    hijab_pose(
        "Hands Raised in Prayer",
        WEDDING,
        "Standing still with both forearms raised in front of the chest, palms open and upturned in dua. "
        "Head bowed slightly.",
        "prayer, dua, hands raised, wedding, hijab, calm",
        BodyPose(head_nod=18).with_limbs(arms((15, 30), (160, 70))),
    ),
    hijab_pose(
        "Graceful Side Glance",
        WEDDING,
        "Body turned side-on, the bouquet held low in the left hand and the right hand at the chest, the "
        "head turning back over the shoulder to the camera.",
        "side glance, over the shoulder, bride, wedding, hijab",
        BodyPose(turn=60, head_turn=-50).with_limbs(
            right_arm((10, 20), (-140, 35)), left_arm((10, 10), (0, 20))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
)
