"""Photos for the pose-from-photo tests, drawn here: scikit-image (and its sample photos) is not a
dependency, so the person is posegen's own mannequin render, which BlazePose finds (benchmark B12).

- `person_photo`: one figure, landscape (768 × 512), so the square frame is exercised;
- `landscape_photo`: sky, hills and a meadow, nobody in it;
- `two_people_photo`: two figures side by side;
- `tiny_person_photo`: one figure the detector finds, but small in a large frame;
- `thumbnail_photo`: under the minimum photo size.
"""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageDraw

from posegen.imaging.mannequin import MannequinRender, render_mannequin
from posegen.kit.openpose import Point
from posegen.library.poses import POSES

BY_SLUG = {spec.slug: spec for spec in POSES}
STANDING = BY_SLUG["100-confident-power-stance"]
PERSON_SIZE = (768, 512)


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _render(slug: str, width: int, height: int) -> MannequinRender:
    spec = BY_SLUG[slug]
    return render_mannequin(spec.keypoints.points, spec.keypoints.depth, width, height)


@cache
def person_render() -> MannequinRender:
    return _render(STANDING.slug, *PERSON_SIZE)


def person_photo() -> bytes:
    return png(person_render().image)


def person_keypoints_on_square() -> list[Point]:
    """Where the standing pose's joints are in `person_photo`, on the square frame (the photo centred
    on a square of its longer side), the frame the API answers in."""
    width, height = PERSON_SIZE
    side = max(width, height)
    dx, dy = (side - width) / 2, (side - height) / 2
    pixels = person_render().transform.apply(STANDING.keypoints.points)
    return [((x + dx) / side, (y + dy) / side, c) if c > 0 else (0.0, 0.0, 0.0) for x, y, c in pixels]


def landscape_photo() -> bytes:
    image = Image.new("RGB", (640, 480))
    draw = ImageDraw.Draw(image)
    for y in range(480):
        sky = (100 + y // 8, 150 + y // 10, 230 - y // 5)
        draw.line([(0, y), (640, y)], fill=sky if y < 240 else (60, 120 + y // 12, 50))
    draw.polygon([(0, 300), (200, 180), (400, 320), (640, 200), (640, 480), (0, 480)], fill=(90, 100, 80))
    draw.ellipse((500, 40, 560, 100), fill=(250, 230, 150))
    return png(image)


def two_people_photo() -> bytes:
    image = Image.new("RGB", (1024, 512))
    image.paste(_render(STANDING.slug, 512, 512).image, (0, 0))
    image.paste(_render("warrior-ii", 512, 512).image, (512, 0))
    return png(image)


def tiny_person_photo() -> bytes:
    figure = _render(STANDING.slug, 700, 700).image
    image = Image.new("RGB", (1600, 1600), figure.getpixel((2, 2)))
    image.paste(figure, (600, 600))
    return png(image)


def thumbnail_photo() -> bytes:
    return png(_render(STANDING.slug, 100, 100).image)
