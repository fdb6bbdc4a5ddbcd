"""E-commerce poses: product modeling, marketplace videos, before/after and live selling."""

from __future__ import annotations

from posegen.library.poses._spec import (
    HANDS_BEHIND_HEAD,
    L_IN_POCKET,
    L_ON_HIP,
    R_IN_POCKET,
    R_ON_HIP,
    SEATED,
    T_ARMS,
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

PRODUCT = "product-modeling"
SHOPEE = "shopee-tiktok"
BEFORE_AFTER = "before-after"
LIVE = "live-selling"

POSES: tuple[PoseSpec, ...] = (
    pose(
        "Showing the Outfit",
        PRODUCT,
        "Standing square to the camera, arms held a little away from the body with open palms so the whole "
        "outfit shows. Feet hip-width apart, head level.",
        "outfit, full body, standing, arms, product, clothing",
        BodyPose(r_thigh=(6, 0), l_thigh=(6, 0)).with_limbs(arms((25, 0), (32, 10))),
        featured=True,
    ),
    pose(
        "Opening the Jacket",
        PRODUCT,
        "Both hands grip the jacket lapels at chest height and pull them open, elbows out to the sides. Body "
        "turned slightly, head facing the camera.",
        "jacket, lapels, hands, standing, product, outerwear",
        BodyPose(turn=15, head_turn=-10).with_limbs(arms((30, 15), (-130, 30))),
        gender=GenderSuitability.MALE,
    ),
    pose(
        "Bag on the Forearm",
        PRODUCT,
        "Three-quarter turn with the left forearm bent forward at the waist so a handbag hangs in the crook "
        "of the elbow. Right arm relaxed, front knee bent.",
        "handbag, bag, accessory, standing, product, three-quarter",
        BodyPose(turn=35, head_turn=-25).with_limbs(left_arm((8, 5), (10, 90)), right_leg((3, 12), (0, -10))),
        gender=GenderSuitability.FEMALE,
    ),
    pose(
        "Checking the Watch",
        PRODUCT,
        "The left forearm is raised across the chest with the watch face up, the head bowed to look at it. "
        "Right hand in the pocket, body turned slightly.",
        "watch, wrist, accessory, standing, product, looking down",
        BodyPose(turn=20, head_nod=25, head_turn=10).with_limbs(left_arm((10, 30), (-80, 35)), R_IN_POCKET),
    ),
    pose(
        "Sleeve Reveal",
        PRODUCT,
        "The right arm is stretched out to the side at shoulder height to show the sleeve, the head turned "
        "to look along it. Left hand on the hip.",
        "sleeve, arm extended, product, clothing, standing",
        BodyPose(head_turn=-50).with_limbs(right_arm((85, 15), (88, 15)), L_ON_HIP),
    ),
    pose(
        "Back View Over the Shoulder",
        PRODUCT,
        "Back turned mostly to the camera to show the back of the garment, the head turned over the "
        "shoulder to look back. Arms relaxed at the sides.",
        "back view, over the shoulder, product, clothing, standing",
        BodyPose(turn=150, head_turn=-100, r_arm=(10, 0), l_arm=(10, 0)).with_limbs(
            left_leg((3, -10), (0, -15))
        ),
        difficulty=Difficulty.INTERMEDIATE,
        premium=True,
    ),
    pose(
        "Side Profile Hand on Hip",
        PRODUCT,
        "Side-on to the camera with the front knee bent and the near hand on the hip, showing the cut of "
        "the garment. Head turned toward the camera.",
        "side profile, hand on hip, product, clothing, standing",
        BodyPose(turn=60, head_turn=-40).with_limbs(right_leg((3, 15), (0, -10)), R_ON_HIP),
    ),
    pose(
        "Heart Hands",
        SHOPEE,
        "Both hands raised to meet in front of the upper chest, fingers forming a heart, elbows out and "
        "forward. Weight on one leg, head tilted with a smile.",
        "heart hands, hands, cute, standing, tiktok, love",
        BodyPose(turn=10, head_tilt=12).with_limbs(arms((20, 45), (-120, 15)), left_leg((4, 10), (0, -8))),
        featured=True,
    ),
    pose(
        "Double Peace Signs",
        SHOPEE,
        "Both hands raised beside the face making peace signs, elbows bent and out. Head tilted, weight on "
        "one leg.",
        "peace sign, hands, playful, tiktok, standing",
        BodyPose(head_tilt=-10).with_limbs(arms((30, 15), (209, 10)), left_leg((5, 12), (0, -12))),
    ),
    pose(
        "Thumbs Up",
        SHOPEE,
        "The right forearm raised forward with a thumbs up at chest height, the left hand on the hip. Body "
        "turned slightly, head tilted toward the thumb.",
        "thumbs up, hand, approval, tiktok, standing",
        BodyPose(turn=-15, head_tilt=-6).with_limbs(right_arm((20, 20), (160, 55)), L_ON_HIP),
    ),
    pose(
        "Excited Jump",
        SHOPEE,
        "In the air with both knees bent so the feet kick up behind, both arms thrown up in a wide V. Chin "
        "up with an excited face.",
        "jump, jumping, excited, arms up, tiktok, energetic",
        BodyPose(turn=30, head_turn=-20, head_nod=-10).with_limbs(
            arms((145, 0), (150, 0)), right_leg((8, 25), (5, -70)), left_leg((8, 15), (5, -60))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Pointing at the Camera",
        SHOPEE,
        "Leaning a little toward the lens with the right arm stretched straight at the camera, index finger "
        "pointing. Left hand on the hip.",
        "pointing, point, camera, you, tiktok, arms",
        BodyPose(turn=-20, lean=8, head_turn=15).with_limbs(right_arm((20, 75), (20, 80)), L_ON_HIP),
    ),
    pose(
        "Dance Move",
        SHOPEE,
        "Mid-dance: the right arm flung up on a diagonal, the left arm down on the opposite diagonal, hips "
        "shifted and the left knee bent.",
        "dance, dancing, arms, tiktok, energetic, fun",
        BodyPose(bend=-10, head_tilt=12).with_limbs(
            right_arm((135, 0), (150, 0)), left_arm((40, 0), (45, 0)), left_leg((12, 20), (5, -25))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Surprised Hands on Cheeks",
        SHOPEE,
        "Both palms pressed to the cheeks in surprise, elbows in front of the chest. Head pulled back a "
        "little, feet together.",
        "surprised, hands on face, reaction, tiktok, standing",
        BodyPose(head_nod=-8).with_limbs(arms((15, 25), (203, -15))),
    ),
    pose(
        "Front Neutral Stance",
        BEFORE_AFTER,
        "Standing straight and square to the camera, arms hanging by the sides, feet hip-width apart and "
        "the head level. The reference stance for comparisons.",
        "neutral, front, standing, before after, reference, straight",
        BodyPose(r_shin=(0, 0), l_shin=(0, 0)).with_limbs(arms((10, 0), (6, 0))),
    ),
    pose(
        "Side Profile Stance",
        BEFORE_AFTER,
        "Standing straight, side-on to the camera and facing right, arms hanging along the body and feet "
        "together. Head level, looking ahead.",
        "side profile, side view, standing, before after, posture",
        BodyPose(turn=90, r_thigh=(0, 0), l_thigh=(0, 0)).with_limbs(arms((0, 0), (0, 0))),
    ),
    pose(
        "Three-Quarter Neutral Stance",
        BEFORE_AFTER,
        "Standing straight, turned forty-five degrees from the camera, arms hanging at the sides and feet "
        "hip-width apart. Head facing the same way as the body.",
        "three-quarter, neutral, standing, before after, angle",
        BodyPose(turn=-45).with_limbs(arms((8, 0), (3, 0))),
    ),
    pose(
        "A-Pose Measurement Stance",
        BEFORE_AFTER,
        "Standing square with straight arms held out at about forty-five degrees from the body and the feet "
        "a little wider than hips. Head level.",
        "a-pose, arms out, measurement, standing, before after",
        BodyPose(r_thigh=(9, 0), l_thigh=(9, 0)).with_limbs(arms((45, 0), (45, 0))),
    ),
    pose(
        "T-Pose Reference",
        BEFORE_AFTER,
        "Standing square with both arms straight out to the sides at shoulder height, palms down, and the "
        "feet together. Head level.",
        "t-pose, arms out, reference, standing, before after",
        BodyPose().with_limbs(legs((2, 0), (0, 0)), T_ARMS),
    ),
    pose(
        "Hands Behind Head Front",
        BEFORE_AFTER,
        "Standing square to the camera with the hands laced behind the head and the elbows pointing out "
        "to the sides. Feet hip-width apart.",
        "hands behind head, elbows out, front, standing, before after",
        BodyPose(r_thigh=(6, 0), l_thigh=(6, 0)).with_limbs(HANDS_BEHIND_HEAD),
    ),
    pose(
        "Rear Three-Quarter Stance",
        BEFORE_AFTER,
        "Back mostly to the camera, turned about 130 degrees, arms hanging straight and feet together. The "
        "head turns to show the profile.",
        "back view, rear, three-quarter, standing, before after",
        BodyPose(turn=-130, head_turn=70).with_limbs(arms((6, 0), (0, 0))),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Pointing at Product",
        LIVE,
        "Standing behind a table with the right arm extended down and out, index finger pointing at a "
        "product at waist height. Left hand rests on the table, head turned toward the product.",
        "pointing, product, live selling, presenting, point, arms",
        BodyPose(head_turn=-30, head_nod=15).with_limbs(
            right_arm((45, 30), (50, 40)), left_arm((10, 20), (-10, 60))
        ),
        featured=True,
    ),
    pose(
        "Holding Product Up",
        LIVE,
        "Both hands lift a product up in front of the face toward the camera, elbows bent below it. Feet "
        "hip-width apart, head level.",
        "holding, product, hands up, live selling, showing",
        BodyPose().with_limbs(arms((10, 70), (180, 50))),
    ),
    pose(
        "Product Next to the Face",
        LIVE,
        "The right hand raises a small product beside the cheek while the left hand rests at the waist. "
        "Head tilted toward the product with a smile.",
        "product, face, beauty, live selling, hand up",
        BodyPose(head_tilt=-10).with_limbs(right_arm((25, 10), (195, 10)), left_arm((10, 15), (-45, 45))),
    ),
    pose(
        "Comparing Two Products",
        LIVE,
        "Both forearms raised to shoulder height and out to the sides, one product in each hand. Head "
        "turned toward the left hand.",
        "comparing, two products, hands up, live selling, choice",
        BodyPose(head_turn=30).with_limbs(arms((35, 20), (160, 30))),
    ),
    pose(
        "Unboxing at the Table",
        LIVE,
        "Seated at a table, turned slightly, both forearms reaching forward to open a box at table height. "
        "Head bowed toward the box.",
        "unboxing, sitting, table, live selling, hands",
        BodyPose(turn=20, head_nod=25).with_limbs(arms((15, 35), (15, 80)), SEATED),
    ),
    pose(
        "Beckoning the Viewers",
        LIVE,
        "Leaning slightly toward the camera with the right forearm raised forward, palm in, waving the "
        "viewers closer. Left hand in the pocket.",
        "beckoning, come here, live selling, gesture, leaning",
        BodyPose(turn=10, lean=10).with_limbs(right_arm((15, 50), (160, 75)), L_IN_POCKET),
    ),
    pose(
        "Showing the Price Tag",
        LIVE,
        "The left hand holds a price tag out toward the camera at chest height while the right index finger "
        "points at it. Head slightly bowed.",
        "price tag, pointing, live selling, showing, hands",
        BodyPose(turn=-25, head_turn=20, head_nod=10).with_limbs(
            right_arm((10, 30), (-50, 75)), left_arm((20, 60), (10, 85))
        ),
    ),
)
