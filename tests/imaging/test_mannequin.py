"""The mannequin renderer: framing, mask, compositing, determinism, palettes and depth order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from posegen.imaging.backgrounds import (
    GradientBackground,
    ImageBackground,
    SolidBackground,
    render_background,
)
from posegen.imaging.body import body_parts
from posegen.imaging.mannequin import (
    DEFAULT_PALETTE,
    PALETTES,
    MannequinRender,
    Palette,
    render_mannequin,
)
from posegen.kit.openpose import Point
from tests.imaging.poses import ABSENT, STANDING, pose

FLAT = [0.0] * 18
BACKGROUND = (236, 236, 240)


# A star jump: arms up and out, legs apart.
STAR = pose(
    k0=(0.5, 0.26), k1=(0.5, 0.36), k2=(0.41, 0.37), k3=(0.3, 0.28), k4=(0.2, 0.2),
    k5=(0.59, 0.37), k6=(0.7, 0.28), k7=(0.8, 0.2), k8=(0.45, 0.62), k9=(0.37, 0.76),
    k10=(0.3, 0.9), k11=(0.55, 0.62), k12=(0.63, 0.76), k13=(0.7, 0.9), k14=(0.48, 0.245),
    k15=(0.52, 0.245), k16=(0.46, 0.255), k17=(0.54, 0.255),
)  # fmt: skip
# The right forearm crosses the torso; the left forearm has the same length, direction and (below)
# depth but hangs over the background, so it shows what the right forearm looks like unobstructed.
CROSSED = pose(
    k0=(0.5, 0.18), k1=(0.5, 0.28), k2=(0.4, 0.29), k3=(0.36, 0.47), k4=(0.53, 0.51),
    k5=(0.6, 0.29), k6=(0.66, 0.47), k7=(0.83, 0.51), k8=(0.45, 0.56), k9=(0.45, 0.73),
    k10=(0.45, 0.9), k11=(0.55, 0.56), k12=(0.55, 0.73), k13=(0.55, 0.9), k14=(0.48, 0.165),
    k15=(0.52, 0.165), k16=(0.46, 0.175), k17=(0.54, 0.175),
)  # fmt: skip
ARMS = (3, 4, 6, 7)


def arms_at(depth: float) -> list[float]:
    values = [0.0] * 18
    for i in ARMS:
        values[i] = depth
    return values


def pixels(image: Image.Image) -> NDArray[np.int32]:
    return np.asarray(image, dtype=np.int32)


def at(render: MannequinRender, points: list[Point], a: int, b: int, t: float = 0.5) -> tuple[int, int]:
    """Pixel (column, row) a fraction ``t`` of the way from keypoint a to keypoint b."""
    xa, ya = render.transform.apply_xy(points[a][0], points[a][1])
    xb, yb = render.transform.apply_xy(points[b][0], points[b][1])
    return round(xa + (xb - xa) * t), round(ya + (yb - ya) * t)


@pytest.mark.parametrize("size", [(512, 512), (768, 512), (320, 640)])
def test_output_sizes_and_modes(size: tuple[int, int]) -> None:
    render = render_mannequin(STANDING, FLAT, *size)
    assert render.image.mode == "RGB" and render.image.size == size
    assert render.mask.mode == "L" and render.mask.size == size
    assert render.transform.scale_x == render.transform.scale_y


def test_mask_is_the_anti_aliased_figure() -> None:
    render = render_mannequin(STANDING, FLAT, 512, 512)
    mask = pixels(render.mask)
    assert mask[0, 0] == mask[0, -1] == mask[-1, 0] == mask[-1, -1] == 0
    # The middle of the torso, halfway from the neck to the middle of the hips.
    neck = render.transform.apply_xy(*STANDING[1][:2])
    hips = render.transform.apply_xy((STANDING[8][0] + STANDING[11][0]) / 2, STANDING[8][1])
    assert mask[round((neck[1] + hips[1]) / 2), round((neck[0] + hips[0]) / 2)] == 255
    edge = (mask > 0) & (mask < 255)
    assert edge.sum() > 200  # soft edges all around the silhouette
    assert (mask == 255).sum() > 10 * edge.sum()


def test_pixels_outside_the_figure_are_the_background() -> None:
    render = render_mannequin(STANDING, FLAT, 512, 512, background=SolidBackground(BACKGROUND))
    image, mask = pixels(render.image), pixels(render.mask)
    assert (image[mask == 0] == np.array(BACKGROUND)).all()
    # Inside, the figure hides the background.
    inside = image[mask == 255]
    assert (np.abs(inside - np.array(BACKGROUND)).sum(axis=1) > 0).mean() > 0.99


def test_the_figure_shows_the_pose() -> None:
    a = pixels(render_mannequin(STANDING, FLAT, 512, 512).mask) > 127
    b = pixels(render_mannequin(STAR, FLAT, 512, 512).mask) > 127
    iou = (a & b).sum() / (a | b).sum()
    assert iou < 0.8


def test_keypoints_are_on_the_figure() -> None:
    render = render_mannequin(STAR, FLAT, 512, 512)
    mask = pixels(render.mask)
    for x, y, _ in render.transform.apply(STAR):
        assert mask[round(y), round(x)] == 255


def test_same_inputs_give_identical_bytes() -> None:
    first = render_mannequin(STAR, arms_at(0.3), 384, 512, palette="warm", seed=7)
    second = render_mannequin(STAR, arms_at(0.3), 384, 512, palette="warm", seed=7)
    assert first.image.tobytes() == second.image.tobytes()
    assert first.mask.tobytes() == second.mask.tobytes()
    assert first.transform == second.transform


def test_renders_in_threads_match_serial_renders() -> None:
    jobs = [(STANDING, "studio", 0), (STAR, "warm", 1), (CROSSED, "cool", 2), (STAR, "charcoal", 3)] * 2

    def run(job: tuple[list[Point], str, int]) -> bytes:
        points, palette, seed = job
        return render_mannequin(points, FLAT, 192, 256, palette=palette, seed=seed).image.tobytes()

    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(run, jobs))
    assert threaded == [run(job) for job in jobs]


def test_seed_changes_the_shading_not_the_silhouette() -> None:
    a = render_mannequin(STANDING, FLAT, 256, 256, seed=1)
    b = render_mannequin(STANDING, FLAT, 256, 256, seed=2)
    assert a.mask.tobytes() == b.mask.tobytes()
    assert a.image.tobytes() != b.image.tobytes()


def test_palettes_change_the_colour_not_the_mask() -> None:
    assert len(PALETTES) >= 4 and DEFAULT_PALETTE in PALETTES
    assert {"studio", "warm", "cool", "charcoal"} <= set(PALETTES)
    renders = {name: render_mannequin(STANDING, FLAT, 256, 256, palette=name) for name in PALETTES}
    masks = {r.mask.tobytes() for r in renders.values()}
    assert len(masks) == 1
    mask = pixels(renders[DEFAULT_PALETTE].mask) == 255
    means = {name: pixels(r.image)[mask].mean(axis=0) for name, r in renders.items()}
    names = list(means)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert np.abs(means[first] - means[second]).sum() > 20, (first, second)
    assert means["charcoal"].sum() < means["studio"].sum()
    assert means["warm"][0] > means["warm"][2]  # warm is red over blue
    assert means["cool"][2] > means["cool"][0]


def test_a_custom_palette_is_used() -> None:
    red = Palette(
        body=(200, 0, 0), shadow=(90, 0, 0), highlight=(255, 80, 80), joint=(150, 0, 0), outline=(40, 0, 0)
    )
    render = render_mannequin(STANDING, FLAT, 256, 256, palette=red)
    inside = pixels(render.image)[pixels(render.mask) == 255]
    assert (inside[:, 0] >= inside[:, 1]).all() and inside[:, 0].mean() > 120
    with pytest.raises(ValueError, match="unknown palette"):
        render_mannequin(STANDING, FLAT, 256, 256, palette="neon")


def test_depth_decides_whether_the_arm_is_over_the_torso() -> None:
    front = render_mannequin(CROSSED, arms_at(1.0), 512, 512)
    behind = render_mannequin(CROSSED, arms_at(-1.0), 512, 512)
    assert front.transform == behind.transform
    x, y = at(front, CROSSED, 3, 4)  # right forearm, over the torso
    lx, ly = at(front, CROSSED, 6, 7)  # left forearm, over the background
    front_px, behind_px = pixels(front.image), pixels(behind.image)
    assert pixels(front.mask)[y, x] == 255 and pixels(front.mask)[ly, lx] == 255

    # In front, the right forearm's middle looks like the unobstructed left forearm's.
    assert np.abs(front_px[y, x] - front_px[ly, lx]).max() <= 8
    assert np.abs(behind_px[y, x] - front_px[y, x]).max() > 0

    # Across the forearm, its dark contour shows on both sides over the torso only when it is in front.
    forearm = next(p for p in body_parts(CROSSED) if p.name == "forearm_r")
    radius = forearm.circles[1].r * front.transform.scale_x
    (ex, ey), (wx, wy) = (front.transform.apply_xy(*CROSSED[i][:2]) for i in (3, 4))
    length = float(np.hypot(wx - ex, wy - ey))
    nx, ny = -(wy - ey) / length, (wx - ex) / length

    def darkest(image: NDArray[np.int32], side: float) -> int:
        offsets = np.linspace(0.5 * radius, 1.3 * radius, 12) * side
        samples = [image[round(y + o * ny), round(x + o * nx)].mean() for o in offsets]
        return int(min(samples))

    outline = float(np.mean(PALETTES[DEFAULT_PALETTE].outline))
    for side in (-1.0, 1.0):
        assert darkest(front_px, side) < outline + 40
        assert darkest(behind_px, side) > outline + 60


def test_depth_order_shows_with_distinct_joint_colours() -> None:
    # Ball joints in pure green: the right wrist lies over the torso, so it shows only when in front.
    green = Palette(
        body=(180, 180, 180),
        shadow=(90, 90, 90),
        highlight=(250, 250, 250),
        joint=(0, 200, 0),
        outline=(30, 30, 30),
    )
    for depth, visible in ((1.0, True), (-1.0, False)):
        render = render_mannequin(CROSSED, arms_at(depth), 512, 512, palette=green)
        x, y = at(render, CROSSED, 4, 4)
        r, g, b = pixels(render.image)[y, x]
        assert bool(g - max(r, b) > 60) is visible


def test_missing_legs_are_not_drawn() -> None:
    upper = list(STANDING)
    for i in (9, 10, 12, 13):
        upper[i] = ABSENT
    render = render_mannequin(upper, FLAT, 512, 512)
    mask = pixels(render.mask)
    # Framed on what is present: the figure now ends at the pelvis, well above where the knees were.
    rows = np.nonzero(mask.any(axis=1))[0]
    hip_y = render.transform.apply_xy(*STANDING[8][:2])[1]
    assert rows.max() < hip_y + 0.25 * (hip_y - rows.min())
    assert mask[0, 0] == 0


def test_gradient_background() -> None:
    background = GradientBackground((250, 250, 255), (60, 70, 90))
    render = render_mannequin(STAR, FLAT, 300, 400, background=background)
    expected = pixels(render_background(background, 300, 400))
    outside = pixels(render.mask) == 0
    assert (pixels(render.image)[outside] == expected[outside]).all()
    assert (pixels(render.mask) == 255).any()


def test_image_background() -> None:
    source = Image.new("RGB", (90, 60), (10, 120, 200))
    source.paste((240, 200, 20), (0, 30, 90, 60))
    background = ImageBackground(source)
    render = render_mannequin(STANDING, FLAT, 256, 320, background=background)
    expected = pixels(render_background(background, 256, 320))
    outside = pixels(render.mask) == 0
    assert (pixels(render.image)[outside] == expected[outside]).all()


@pytest.mark.parametrize("size", [(768, 512), (400, 900)])
def test_non_square_canvas_keeps_the_figure_inside_the_margins(size: tuple[int, int]) -> None:
    width, height = size
    margin = 0.08
    render = render_mannequin(STAR, FLAT, width, height, margin=margin)
    mask = pixels(render.mask)
    rows = np.nonzero(mask.any(axis=1))[0]
    cols = np.nonzero(mask.any(axis=0))[0]
    pad = margin * min(width, height)
    assert rows.min() >= pad - 1 and cols.min() >= pad - 1
    assert rows.max() <= height - pad and cols.max() <= width - pad
    # Centred, and filling the canvas along its limiting side.
    assert abs(cols.min() - (width - 1 - cols.max())) <= 2
    assert abs(rows.min() - (height - 1 - rows.max())) <= 2
    assert min(rows.min(), cols.min()) <= pad + 2


def test_empty_pose_renders_just_the_background() -> None:
    render = render_mannequin([ABSENT] * 18, FLAT, 64, 64)
    assert (pixels(render.image) == np.array(BACKGROUND)).all()
    assert not pixels(render.mask).any()


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="depth"):
        render_mannequin(STANDING, [0.0] * 17, 64, 64)
    with pytest.raises(ValueError, match="18 keypoints"):
        render_mannequin(STANDING[:10], FLAT, 64, 64)
    with pytest.raises(ValueError, match="finite"):
        render_mannequin(STANDING, [float("nan")] * 18, 64, 64)
