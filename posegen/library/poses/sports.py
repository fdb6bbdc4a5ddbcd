"""Sports poses: the gym, yoga and running."""

from __future__ import annotations

from posegen.library.poses._spec import (
    HANDS_ON_HIPS,
    HANDS_TOGETHER_OVERHEAD,
    T_ARMS,
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
from posegen.library.taxonomy import Difficulty

GYM = "fitness-gym"
YOGA = "yoga-wellness"
RUNNING = "running-cardio"

# Arms hanging straight down (to the floor when the torso is horizontal).
STRAIGHT_ARMS: Limbs = {"r_arm": (0, 0), "r_fore": (0, 0), "l_arm": (0, 0), "l_fore": (0, 0)}
# Legs straight and together, the body's line continued behind a torso leaning 80° forward.
LEGS_BEHIND: Limbs = {"r_thigh": (0, -80), "r_shin": (0, -80), "l_thigh": (0, -80), "l_shin": (0, -80)}

POSES: tuple[PoseSpec, ...] = (
    pose(
        "Squat",
        GYM,
        "A deep bodyweight squat at an angle: hips back and down with the thighs near parallel to the floor, "
        "knees out over the toes, torso leaning forward and arms reaching straight ahead.",
        "squat, legs, fitness, gym, strength, bodyweight",
        BodyPose(turn=35, lean=35, head_nod=-20).with_limbs(arms((5, 80), (5, 85)), legs((25, 75), (5, -20))),
        featured=True,
    ),
    pose(
        "Forward Lunge",
        GYM,
        "Side-on lunge: the front thigh level with the knee over the ankle, the back knee bent toward the "
        "floor, torso upright and hands on the hips.",
        "lunge, legs, fitness, gym, balance",
        BodyPose(turn=80).with_limbs(right_leg((0, 85), (0, 0)), left_leg((0, -35), (0, -95)), HANDS_ON_HIPS),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Push-Up",
        GYM,
        "Top of a push-up seen from the side: arms straight under the shoulders, the body in one straight "
        "line from head to heels.",
        "push-up, plank, arms, chest, fitness, gym",
        BodyPose(turn=90, lean=80).with_limbs(STRAIGHT_ARMS, LEGS_BEHIND),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Forearm Plank",
        GYM,
        "Side view of a forearm plank: elbows under the shoulders with the forearms flat on the floor, body "
        "straight from head to heels.",
        "plank, core, forearms, fitness, gym, hold",
        BodyPose(turn=90, lean=80).with_limbs(arms((0, 0), (0, 90)), LEGS_BEHIND),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Bicep Curl",
        GYM,
        "Standing at an angle, elbows pinned at the sides, the right forearm curled up to the shoulder with "
        "a dumbbell and the left arm straight down.",
        "bicep curl, dumbbell, arms, fitness, gym, strength",
        BodyPose(turn=30, r_thigh=(6, 0), l_thigh=(6, 0)).with_limbs(
            right_arm((5, 0), (180, 30)), left_arm((5, 0), (0, 10))
        ),
    ),
    pose(
        "Overhead Press",
        GYM,
        "Feet shoulder-width apart, both arms pressed straight up overhead with the hands above the "
        "shoulders. Head level, core braced.",
        "overhead press, shoulders, arms up, fitness, gym, strength",
        BodyPose(r_thigh=(8, 0), l_thigh=(8, 0)).with_limbs(arms((178, 0), (178, 0))),
    ),
    pose(
        "Deadlift Hinge",
        GYM,
        "Side view of a deadlift: hips hinged back, flat back leaning well forward, knees soft and both "
        "arms hanging straight down holding the bar.",
        "deadlift, hinge, back, fitness, gym, strength",
        BodyPose(turn=80, lean=55, head_nod=-20).with_limbs(legs((0, 20), (0, -10)), STRAIGHT_ARMS),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Double Biceps Flex",
        GYM,
        "Facing the camera with the upper arms raised out to shoulder height and both forearms curled up, "
        "flexing the biceps. Feet wide.",
        "flex, biceps, muscles, fitness, gym, bodybuilding",
        BodyPose(r_thigh=(10, 0), l_thigh=(10, 0)).with_limbs(arms((90, 0), (175, -10))),
        premium=True,
    ),
    pose(
        "Side Plank",
        GYM,
        "Facing the camera, balanced on the straight left arm with the body in a diagonal line, feet "
        "stacked, the right arm reaching straight up.",
        "side plank, core, balance, fitness, gym",
        BodyPose(roll=70).with_limbs(
            right_arm((110, 0), (110, 0)), left_arm((70, 0), (70, 0)), legs((0, 0), (0, 0))
        ),
        difficulty=Difficulty.ADVANCED,
        premium=True,
    ),
    pose(
        "Kettlebell Swing",
        GYM,
        "Side-on at the top of a swing: hips driven forward, knees soft and both arms straight out in front "
        "at chest height holding the kettlebell.",
        "kettlebell, swing, fitness, gym, power",
        BodyPose(turn=75, lean=-5, r_thigh=(0, 8)).with_limbs(arms((0, 85), (0, 85))),
    ),
    pose(
        "Tree Pose",
        YOGA,
        "Balanced on the straight right leg with the left foot pressed against the inner right thigh, the "
        "left knee pointing out to the side. Arms raised overhead with the palms together.",
        "tree pose, yoga, balance, vrksasana, standing",
        BodyPose().with_limbs(
            # The left knee out and forward, the shin back across so the ankle rests on the inner right thigh.
            right_leg((0, 0), (0, 0)),
            left_leg((45, 45), (-85, 0)),
            HANDS_TOGETHER_OVERHEAD,
        ),
        difficulty=Difficulty.INTERMEDIATE,
        featured=True,
    ),
    pose(
        "Warrior II",
        YOGA,
        "Feet wide, the left knee bent over the ankle with the thigh level and the right leg straight, arms "
        "stretched out at shoulder height. Head turned to gaze over the left hand.",
        "warrior ii, warrior 2, yoga, virabhadrasana, lunge, arms out",
        BodyPose(head_turn=75).with_limbs(right_leg((40, 0), (40, 0)), left_leg((85, 0), (0, 0)), T_ARMS),
        difficulty=Difficulty.INTERMEDIATE,
        premium=True,
    ),
    pose(
        "Warrior I",
        YOGA,
        "Side view: the front knee bent at a right angle, the back leg long and straight behind, torso "
        "upright and both arms reaching straight up.",
        "warrior i, warrior 1, yoga, lunge, arms up",
        BodyPose(turn=80).with_limbs(
            arms((180, 0), (180, 0)), right_leg((0, 85), (0, 0)), left_leg((0, -40), (0, -40))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Downward Dog",
        YOGA,
        "Side view of an inverted V: hands on the floor ahead with straight arms, hips raised high, legs "
        "straight with the heels reaching down. Head between the arms.",
        "downward dog, yoga, inversion, stretch, adho mukha",
        BodyPose(turn=90, lean=130).with_limbs(arms((0, 50), (0, 50)), legs((0, -40), (0, -40))),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Triangle Pose",
        YOGA,
        "Legs wide and straight, the torso tipped sideways over the left leg with the left hand down at the "
        "left shin and the right arm reaching straight up. Head turned up toward the right hand.",
        "triangle pose, yoga, trikonasana, side stretch, balance",
        BodyPose(bend=55, head_turn=-30).with_limbs(
            right_arm((180, 0), (180, 0)), left_arm((0, 0), (0, 0)), legs((35, 0), (35, 0))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Chair Pose",
        YOGA,
        "Side view: knees bent and hips pushed back as if sitting on an invisible chair, torso leaning "
        "forward and the arms reaching up in line with it.",
        "chair pose, yoga, utkatasana, legs, arms up",
        BodyPose(turn=80, lean=30).with_limbs(arms((180, 30), (180, 30)), legs((0, 60), (0, -25))),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Lotus Meditation",
        YOGA,
        "Seated upright on the floor with the legs crossed in lotus, knees wide, the backs of the wrists "
        "resting on the knees. Head level, eyes closed.",
        "lotus, meditation, yoga, sitting, mindfulness, calm",
        BodyPose().with_limbs(
            arms((25, 25), (25, 55)),
            {"r_thigh": (80, 40), "r_shin": (-80, 30), "l_thigh": (80, 40), "l_shin": (-80, 30)},
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Cobra Pose",
        YOGA,
        "Lying face down seen from the side, legs stretched back along the floor, the chest lifted on bent "
        "arms with the hands under the shoulders. Head looking up.",
        "cobra, yoga, backbend, bhujangasana, lying",
        BodyPose(turn=90, lean=50, head_nod=-20).with_limbs(
            arms((0, -30), (0, 20)), legs((0, -88), (0, -88))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Standing Forward Fold",
        YOGA,
        "Side view: legs straight, the torso folded down over the legs so the head hangs near the knees "
        "and both arms hang to the floor.",
        "forward fold, yoga, uttanasana, stretch, hamstrings",
        # Folded far enough to bring the head to the knees, the hands on the floor just ahead of the feet.
        BodyPose(turn=80, lean=120).with_limbs(legs((0, 0), (0, 0)), arms((0, 0), (0, -30))),
    ),
    pose(
        "Dancer Pose",
        YOGA,
        "Balanced on the left leg, the right foot kicked up behind and held by the right hand, torso "
        "tipping forward and the left arm reaching forward and up.",
        "dancer pose, yoga, natarajasana, balance, backbend",
        BodyPose(turn=80, lean=35, head_nod=-20).with_limbs(
            right_arm((0, -60), (0, -60)),
            left_arm((180, 50), (180, 50)),
            right_leg((0, -60), (180, -30)),
            left_leg((0, 0), (0, 0)),
        ),
        difficulty=Difficulty.ADVANCED,
        premium=True,
    ),
    pose(
        "Child's Pose",
        YOGA,
        "Side view: kneeling and sitting back on the heels, the torso folded forward over the thighs with "
        "the forehead down and the arms stretched forward along the floor.",
        "child's pose, yoga, balasana, rest, kneeling",
        # Hips on the heels above the floor, the forehead and the forearms just above the floor line.
        BodyPose(turn=85, lean=95, head_nod=10).with_limbs(arms((0, 60), (0, 90)), legs((0, 55), (0, -90))),
    ),
    pose(
        "Sprint Start",
        RUNNING,
        "Side view of the set position: hands on the track under the shoulders, hips raised just above "
        "them, the front knee bent at a right angle and the back knee more open.",
        "sprint start, running, track, blocks, athletics",
        BodyPose(turn=85, lean=105).with_limbs(
            right_leg((0, 40), (0, -45)), left_leg((0, -5), (0, -62)), STRAIGHT_ARMS
        ),
        difficulty=Difficulty.ADVANCED,
        premium=True,
    ),
    pose(
        "Running Stride",
        RUNNING,
        "Side view of a full running stride: the front knee driven up, the back leg kicked behind, arms "
        "bent at right angles and pumping opposite the legs, torso leaning slightly forward.",
        "running, run, stride, sprint, cardio, athletics",
        BodyPose(turn=80, lean=12).with_limbs(
            right_arm((5, -40), (0, 40)),
            left_arm((5, 45), (0, 120)),
            right_leg((0, 65), (0, -15)),
            left_leg((0, -25), (0, -95)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
        featured=True,
    ),
    pose(
        "Jogging Toward the Camera",
        RUNNING,
        "An easy jog angled toward the camera, the left foot landing ahead, the right heel lifting behind "
        "and the elbows bent, swinging.",
        "jogging, jog, running, cardio, easy",
        BodyPose(turn=-25).with_limbs(
            right_arm((10, 25), (-10, 100)),
            left_arm((10, -25), (0, 55)),
            right_leg((0, -15), (0, -55)),
            left_leg((0, 35), (0, 5)),
        ),
    ),
    pose(
        "High Knees",
        RUNNING,
        "Running on the spot at an angle, the right knee lifted to hip height with the shin hanging down, "
        "arms pumping with the elbows bent.",
        "high knees, running, cardio, warm up, drill",
        BodyPose(turn=40).with_limbs(
            right_arm((5, -35), (0, 55)),
            left_arm((5, 40), (180, 40)),
            right_leg((0, 90), (0, 0)),
            left_leg((0, 0), (0, 0)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Jumping Jack",
        RUNNING,
        "The open position of a jumping jack: feet wide apart and both arms straight overhead with the "
        "hands meeting. Facing the camera.",
        "jumping jack, jump, cardio, arms up, warm up",
        BodyPose().with_limbs(legs((18, 0), (18, 0)), HANDS_TOGETHER_OVERHEAD),
    ),
    pose(
        "Hamstring Stretch",
        RUNNING,
        "Side view: the right leg straight out in front with the heel on the ground, the left knee bent, "
        "hinging forward from the hips with both hands on the right thigh.",
        "hamstring stretch, stretching, running, cool down, legs",
        BodyPose(turn=80, lean=45).with_limbs(
            arms((0, 30), (0, 35)), right_leg((0, 35), (0, 35)), left_leg((0, -5), (0, -20))
        ),
    ),
    pose(
        "Finish Line Arms Up",
        RUNNING,
        "Crossing the finish line mid-stride with both arms thrown up in a V and the chest forward, head "
        "tipped back in triumph.",
        "finish line, victory, running, arms up, celebration",
        BodyPose(turn=25, head_nod=-20).with_limbs(
            arms((150, 0), (155, 0)), right_leg((0, 30), (0, 0)), left_leg((0, -15), (0, -50))
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
    pose(
        "Standing Quad Stretch",
        RUNNING,
        "Balanced on the right leg, the left foot pulled up behind to the glutes by the left hand, the "
        "right arm out to the side for balance.",
        "quad stretch, stretching, balance, running, legs",
        BodyPose(turn=60, head_turn=-30).with_limbs(
            right_arm((60, 10), (60, 10)),
            left_arm((5, -15), (5, -20)),
            right_leg((0, 0), (0, 0)),
            left_leg((0, -5), (180, -10)),
        ),
        difficulty=Difficulty.INTERMEDIATE,
    ),
)
