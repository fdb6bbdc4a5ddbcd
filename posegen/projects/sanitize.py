"""Turn untrusted image bytes into a clean image: known format, bounded size, no metadata.

Everything here is blocking Pillow work: callers run it in a thread. The
format is judged by the bytes alone; a file name or a declared content type is
never consulted.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps

from posegen.errors import PayloadTooLarge
from posegen.projects.errors import UnsupportedMediaType


@dataclass(frozen=True)
class ImageFormat:
    pillow: str
    mime: str
    extension: str


# The one list of accepted upload formats, keyed by Pillow's format name.
FORMATS: dict[str, ImageFormat] = {
    "PNG": ImageFormat("PNG", "image/png", "png"),
    "JPEG": ImageFormat("JPEG", "image/jpeg", "jpg"),
    "WEBP": ImageFormat("WEBP", "image/webp", "webp"),
}
JPEG_QUALITY = 92
WEBP_QUALITY = 92

# What Pillow raises for bytes that claim a format but do not hold a valid image of it.
_BROKEN = (OSError, SyntaxError, ValueError, EOFError)
_SIXTEEN_BIT = frozenset({"I", "I;16", "I;16B", "I;16L", "I;16N"})


@dataclass(frozen=True)
class CleanImage:
    """A re-encoded image and what the uploads table records about it."""

    data: bytes
    format: ImageFormat
    width: int
    height: int


def _unsupported() -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "Upload a PNG, JPEG or WebP image", details={"accepted": [f.mime for f in FORMATS.values()]}
    )


def _too_many_pixels(pixels: int | None, limit: int) -> PayloadTooLarge:
    details: dict[str, int] = {"limitPixels": limit}
    if pixels is not None:
        details["pixels"] = pixels
    return PayloadTooLarge(f"Image too large: at most {limit:,} pixels", details=details)


def pixel_limit(configured: int) -> int:
    """The effective limit: the setting, and never above what Pillow itself treats as a bomb.

    Pillow warns about images over its own limit while opening them; keeping ours at or
    below it means every image it would warn about is refused here too.
    """
    pillow = Image.MAX_IMAGE_PIXELS
    return min(configured, pillow) if pillow else configured


def _open(data: bytes, formats: list[str], limit: int) -> Image.Image:
    """The image with its header read and checked; no pixel data is decoded yet."""
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses (or, where warnings are errors, warns about) absurd dimensions itself.
        raise _too_many_pixels(None, limit) from exc
    except _BROKEN as exc:
        raise _unsupported() from exc
    if image.format not in FORMATS:
        raise _unsupported()
    pixels = image.width * image.height
    if pixels > limit:
        raise _too_many_pixels(pixels, limit)
    return image


def _normalise_mode(image: Image.Image, keep_alpha: bool) -> Image.Image:
    if image.mode in _SIXTEEN_BIT:
        # 16-bit greyscale: scale to 8 bits instead of letting `convert` clip everything to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert("RGBA" if keep_alpha else "RGB")


def _encode(image: Image.Image, target: ImageFormat) -> bytes:
    buffer = io.BytesIO()
    if target.pillow == "JPEG":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    elif target.pillow == "WEBP":
        image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
    else:
        image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def clean_image(data: bytes, max_pixels: int) -> CleanImage:
    """Check, decode and re-encode an uploaded image.

    `UnsupportedMediaType` unless the bytes are a valid PNG, JPEG or WebP;
    `PayloadTooLarge` when its header declares more than `max_pixels` (checked
    before any pixel is decoded). The result keeps the source format, has the
    EXIF orientation applied and carries no metadata at all (EXIF, GPS, XMP,
    ICC, text chunks): only the first frame of an animation is kept.
    """
    limit = pixel_limit(max_pixels)
    formats = list(FORMATS)
    probe = _open(data, formats, limit)
    target = FORMATS[str(probe.format)]
    try:
        # A structural check (PNG chunk CRCs and the like) before paying for a decode.
        probe.verify()
    except _BROKEN as exc:
        raise _unsupported() from exc
    # `verify` leaves the image unusable; decoding needs a fresh open.
    image = _open(data, [target.pillow], limit)
    try:
        image.load()
        oriented = ImageOps.exif_transpose(image)
        keep_alpha = target.pillow != "JPEG" and oriented.has_transparency_data
        clean = _normalise_mode(oriented, keep_alpha)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, limit) from exc
    except _BROKEN as exc:
        raise _unsupported() from exc
    # Encoders copy ICC profiles, XMP, text and EXIF from `info`; an empty one writes pixels only.
    clean.info = {}
    return CleanImage(data=_encode(clean, target), format=target, width=clean.width, height=clean.height)
