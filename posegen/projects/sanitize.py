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
from posegen.imaging.budget import image_bytes
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


@dataclass(frozen=True)
class Inspected:
    """An upload's header, checked, and the plan for cleaning it: what will be decoded and stored.

    `cost` is the estimated peak of Pillow's memory while cleaning, in bytes: what the upload
    reserves of the image memory budget (`posegen.imaging.budget`).
    """

    format: ImageFormat
    decoded: tuple[int, int]
    mode: str
    stored: tuple[int, int]
    cost: int


def _stored_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """The size kept: at most `max_side` on the longest side, aspect ratio kept; never enlarged."""
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    if width >= height:
        return max_side, max(1, round(height * max_side / width))
    return max(1, round(width * max_side / height)), max_side


def _draft(image: Image.Image, max_side: int) -> None:
    """JPEG only: let the decoder scale by 1/2, 1/4 or 1/8 when the stored image is that much smaller.

    The decoder never goes below the requested size, so the resize after it still has the pixels
    it needs. Other formats ignore this.
    """
    stored = _stored_size(image.width, image.height, max_side)
    if stored != image.size:
        image.draft(None, stored)


# `resize` first shrinks by whole factors with `reduce` (a box filter, fast) until at most this
# factor is left for Lanczos: 1.5 halves the time of a 40 MP → 4 MP resize against the default 2.0,
# and the result is still close to a full Lanczos resample.
REDUCING_GAP = 1.5

# Modes `resize` handles as they are; others (palette, 1-bit, 16-bit, CMYK, …) are converted first.
_RESIZABLE = frozenset({"L", "LA", "RGB", "RGBA"})


def _cost(target: ImageFormat, decoded: tuple[int, int], mode: str, stored: tuple[int, int]) -> int:
    """Peak bytes while cleaning: the largest set of images alive at once in `_decode`.

    Checked against the process's peak RSS for 40 MP PNG (RGB, RGBA, palette, grey), JPEG and
    WebP uploads; it errs on the high side only.
    """
    width, height = decoded
    full = image_bytes(width, height, "RGBA")
    source = image_bytes(width, height, mode)
    # Pillow's WebP reader keeps libwebp's canvas and the decoded frame's bytes for as long as the
    # image lives, and needs one more buffer of the same size while it loads.
    held = 2 * full if target.pillow == "WEBP" else 0
    converted = 0 if mode in _RESIZABLE else full
    # Phase 1: the decoded source (and what its reader holds) and, for a mode `resize` does not
    # take, its converted copy; converting drops the source before phase 2.
    peak = source + held + (full if target.pillow == "WEBP" else 0) + converted
    working_mode = mode if mode in _RESIZABLE else "RGBA"
    working = image_bytes(width, height, working_mode)
    kept = working if converted else source + held
    out = image_bytes(*stored, "RGBA")
    if stored != decoded:
        # Phase 2, downscaling. With alpha, `resize` works on a premultiplied copy; it reduces by
        # whole factors first (as computed here), then the two-pass resample holds its
        # horizontal pass (new width × rows in) and the result.
        premultiplied = working if working_mode in ("LA", "RGBA") else 0
        factor_x = max(1, int(width / stored[0] / REDUCING_GAP))
        factor_y = max(1, int(height / stored[1] / REDUCING_GAP))
        reduced = working // (factor_x * factor_y) if factor_x * factor_y > 1 else 0
        rows = -(-height // factor_y)
        horizontal = image_bytes(stored[0], rows, working_mode)
        peak = max(peak, kept + premultiplied + reduced + horizontal + out)
    # Phase 3, at the stored size: the image and one transposed or converted copy, then the
    # image, the encoder's output and `getvalue`'s copy of it (each at worst the raw pixels).
    return max(peak, 4 * out)


def inspect_image(data: bytes, max_pixels: int, max_side: int) -> Inspected:
    """Check an upload's format, structure and declared size, and plan its cleaning.

    Reads headers and chunk structure only, no pixel data. `UnsupportedMediaType` unless the bytes
    are a valid PNG, JPEG or WebP; `PayloadTooLarge` when the header declares more than `max_pixels`.
    """
    limit = pixel_limit(max_pixels)
    probe = _open(data, list(FORMATS), limit)
    target = FORMATS[str(probe.format)]
    try:
        # A structural check (PNG chunk CRCs and the like) before paying for a decode.
        probe.verify()
    except _BROKEN as exc:
        raise _unsupported() from exc
    # `verify` leaves the image unusable; planning needs a fresh open.
    image = _open(data, [target.pillow], limit)
    _draft(image, max_side)
    stored = _stored_size(image.width, image.height, max_side)
    return Inspected(target, image.size, image.mode, stored, _cost(target, image.size, image.mode, stored))


def _to_mode(image: Image.Image, mode: str) -> Image.Image:
    """`image` in `mode` (the image itself when it already is: `convert` would copy it)."""
    if image.mode == mode:
        return image
    if image.mode in _SIXTEEN_BIT:
        # 16-bit greyscale: scale to 8 bits instead of letting `convert` clip everything to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return image.convert(mode)


def _encode(image: Image.Image, target: ImageFormat) -> bytes:
    buffer = io.BytesIO()
    if target.pillow == "JPEG":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    elif target.pillow == "WEBP":
        image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
    else:
        image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _decode(data: bytes, plan: Inspected, max_pixels: int, max_side: int) -> Image.Image:
    """Decode, downscale, orient and convert, holding as few full-size images at once as possible."""
    image = _open(data, [plan.format.pillow], pixel_limit(max_pixels))
    _draft(image, max_side)
    image.load()
    keep_alpha = plan.format.pillow != "JPEG" and image.has_transparency_data
    mode = "RGBA" if keep_alpha else "RGB"
    if image.mode not in _RESIZABLE:
        image = _to_mode(image, mode)  # the source is dropped here, before any resize
    if image.size != plan.stored:
        # The resized image keeps the file's `info`, EXIF orientation included.
        image = image.resize(plan.stored, Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)
    # Orienting last, on the smallest image; in place, so no second image is kept alongside.
    ImageOps.exif_transpose(image, in_place=True)
    return _to_mode(image, mode)


def clean_image(data: bytes, plan: Inspected, max_pixels: int, max_side: int) -> CleanImage:
    """Decode and re-encode an upload that `inspect_image` accepted and planned.

    The result keeps the source format, is at most `max_side` on its longest side (downscaled
    with Lanczos; JPEGs decode at a reduced scale where that is enough), has the EXIF orientation
    applied and carries no metadata at all (EXIF, GPS, XMP, ICC, text chunks): only the first frame
    of an animation is kept. Blocking: run it in a thread, within the budget `plan.cost` asks for.
    """
    try:
        clean = _decode(data, plan, max_pixels, max_side)
    except Image.DecompressionBombError as exc:
        raise _too_many_pixels(None, pixel_limit(max_pixels)) from exc
    except _BROKEN as exc:
        raise _unsupported() from exc
    # Encoders copy ICC profiles, XMP, text and EXIF from `info`; an empty one writes pixels only.
    clean.info = {}
    return CleanImage(
        data=_encode(clean, plan.format), format=plan.format, width=clean.width, height=clean.height
    )
