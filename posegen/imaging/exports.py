"""Exports: framed, resized and encoded copies of one image for every preset (DATA.md).

Framing never cuts the person: a preset is cover-cropped around the figure when the crop keeps the
figure's box plus :data:`FIGURE_MARGIN`; otherwise the image is fitted (scaled so that box fits) and
the canvas is extended with the image's own edges, blurred (see :func:`place`).

Everything here is a pure function over an already decoded, loaded Pillow image: no I/O, no shared
mutable state, so the functions are safe to call from a thread pool. :func:`render_outputs` is the
pipeline the workers run: it normalises the image to sRGB once, then produces the WebP thumbnail and
every requested export from that one image, resizing once per distinct size and encoding once per
distinct (size, format, quality, dpi), so presets that share a specification share their bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageFilter

from posegen.imaging.presets import ExportPreset, ImageFormat, resolve_preset
from posegen.imaging.thumbnails import (
    THUMBNAIL_LONGEST_SIDE,
    encode_jpeg,
    encode_png,
    encode_webp,
)

Box = tuple[int, int, int, int]  # left, top, right (exclusive), bottom (exclusive)
Size = tuple[int, int]

# What transparent pixels become in the RGB outputs: JPEG has no alpha, and white is what a
# transparent product shot is shown on almost everywhere.
BACKGROUND = (255, 255, 255)

# A downscale by at least this factor first shrinks the source by an integer factor with a box filter
# (Image.reduce), then finishes with LANCZOS. It is what Pillow's ``reducing_gap`` does; with a gap of
# 3 the result is indistinguishable from a plain LANCZOS resize, at a fraction of the cost. Doing the
# reduction here rather than per resize call lets every preset that needs it share one reduced copy.
REDUCING_GAP = 3.0

# Room kept around the figure's box on every side, as a fraction of the figure's height: enough that
# hair, fingertips and shoes never touch the export's edge.
FIGURE_MARGIN = 0.04
# Blur radius of the edge extension, as a fraction of the export's shorter side: wide enough that the
# streaks of the replicated edge read as an out-of-focus backdrop, not as stretched pixels.
EXTENSION_BLUR = 0.03

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
# What Pillow decodes a 16-bit grey PNG to; converting these clips at 255 (white) instead of scaling.
_WIDE_GREY_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})


@dataclass(frozen=True)
class Outputs:
    """What :func:`render_outputs` makes of one image.

    ``thumbnail`` is WebP, longest side :data:`THUMBNAIL_LONGEST_SIDE` (never enlarged), of size
    ``thumbnail_size``. ``exports`` maps each requested key (as given, aliases included) to its bytes;
    keys that resolve to the same specification map to the very same ``bytes`` object.
    """

    thumbnail: bytes
    thumbnail_size: Size
    exports: Mapping[str, bytes]


@dataclass(frozen=True)
class _Spec:
    """What an export's bytes depend on; presets with equal specs have equal bytes."""

    width: int | None  # None: the original size, uncropped
    height: int | None
    format: ImageFormat
    quality: int | None
    dpi: int | None

    @property
    def size(self) -> Size | None:
        if self.width is None or self.height is None:
            return None
        return (self.width, self.height)


@dataclass(frozen=True)
class Placement:
    """How an export of size ``size`` shows its source: ``source`` (a box of the source image) is
    resized into ``target`` (a box of the export). ``fitted`` is False for a plain cover crop (``target``
    is the whole export); True when the image was fitted and the rest of the canvas is edge extension.
    Boxes are ``(left, top, right, bottom)``, right/bottom exclusive."""

    source: Box
    target: Box
    size: Size
    fitted: bool

    def map_point(self, x: float, y: float) -> tuple[float, float]:
        """Where the source pixel coordinate ``(x, y)`` lands in the export."""
        s_left, s_top, s_right, s_bottom = self.source
        t_left, t_top, t_right, t_bottom = self.target
        return (
            t_left + (x - s_left) * (t_right - t_left) / (s_right - s_left),
            t_top + (y - s_top) * (t_bottom - t_top) / (s_bottom - s_top),
        )


def _spec(preset: ExportPreset) -> _Spec:
    return _Spec(preset.width, preset.height, preset.format, preset.quality, preset.dpi)


# --------------------------------------------------------------------------------------------------
# Public API


def resolve_presets(keys: Iterable[str | ExportPreset]) -> dict[str, ExportPreset]:
    """Map each key (or preset) to its preset, keyed as given; raise ValueError naming unknown keys."""
    resolved: dict[str, ExportPreset] = {}
    unknown: list[str] = []
    for key in keys:
        if isinstance(key, ExportPreset):
            resolved[key.key] = key
            continue
        preset = resolve_preset(key)
        if preset is None:
            unknown.append(key)
        else:
            resolved[key] = preset
    if unknown:
        raise ValueError(f"unknown export preset(s): {', '.join(sorted(set(unknown)))}")
    return resolved


def cover_crop_box(src_w: int, src_h: int, dst_w: int, dst_h: int, focus: Box | None = None) -> Box:
    """The largest crop of a ``src_w``×``src_h`` image with the aspect ratio of ``dst_w``×``dst_h``.

    The crop is centred on ``focus`` (a ``(left, top, right, bottom)`` pixel box, typically the figure's
    :func:`~posegen.imaging.geometry.figure_box`; the part outside the image is ignored) or, without
    one, on the image centre, then shifted to stay inside the image. A focus box that fits in the crop
    is therefore always wholly inside it; one that is larger in a dimension stays centred, so the person
    is as centred as the image allows. Returns ``(left, top, right, bottom)``, right/bottom exclusive.
    """
    if min(src_w, src_h, dst_w, dst_h) <= 0:
        raise ValueError(f"sizes must be positive, got {src_w}x{src_h} -> {dst_w}x{dst_h}")
    # Integer comparison decides which side is cut, so an exact aspect match crops nothing.
    if src_w * dst_h > src_h * dst_w:
        crop_w, crop_h = min(src_w, max(1, round(src_h * dst_w / dst_h))), src_h
    else:
        crop_w, crop_h = src_w, min(src_h, max(1, round(src_w * dst_h / dst_w)))
    centre_x, centre_y = src_w / 2, src_h / 2
    if focus is not None:
        left, top, right, bottom = focus
        if right <= left or bottom <= top:
            raise ValueError(f"focus box must have a positive size, got {focus}")
        left, top = max(left, 0), max(top, 0)
        right, bottom = min(right, src_w), min(bottom, src_h)
        if right > left and bottom > top:  # a focus wholly outside the image says nothing about it
            centre_x, centre_y = (left + right) / 2, (top + bottom) / 2
    x = _place(centre_x, crop_w, src_w)
    y = _place(centre_y, crop_h, src_h)
    return (x, y, x + crop_w, y + crop_h)


def figure_margin_box(focus: Box, src_w: int, src_h: int) -> Box | None:
    """``focus`` grown by :data:`FIGURE_MARGIN` of its height on every side, clamped to the image;
    None when nothing of it lies inside the image."""
    left, top, right, bottom = focus
    if right <= left or bottom <= top:
        raise ValueError(f"focus box must have a positive size, got {focus}")
    pad = math.ceil((bottom - top) * FIGURE_MARGIN)
    box = (max(left - pad, 0), max(top - pad, 0), min(right + pad, src_w), min(bottom + pad, src_h))
    return box if box[0] < box[2] and box[1] < box[3] else None


def place(src_w: int, src_h: int, dst_w: int, dst_h: int, focus: Box | None = None) -> Placement:
    """How a ``src_w``×``src_h`` image fills a ``dst_w``×``dst_h`` export without cutting ``focus``.

    The cover crop (:func:`cover_crop_box`, centred on the figure) is kept when it holds the whole
    figure box plus margin (:func:`figure_margin_box`). Otherwise the image is scaled so that box just
    fits, centred on it and kept as far inside the export as it allows; the uncovered part of the
    export is then filled by :func:`render_all` with the image's edges extended and blurred.
    """
    crop = cover_crop_box(src_w, src_h, dst_w, dst_h, focus)
    whole = (0, 0, dst_w, dst_h)
    need = figure_margin_box(focus, src_w, src_h) if focus is not None else None
    if need is None or _inside(need, crop):
        return Placement(crop, whole, (dst_w, dst_h), fitted=False)
    # A margin clamped at the image's edge is lopsided; centred on it, the crop may still hold it.
    crop = cover_crop_box(src_w, src_h, dst_w, dst_h, need)
    if _inside(need, crop):
        return Placement(crop, whole, (dst_w, dst_h), fitted=False)
    scale = min(dst_w / (need[2] - need[0]), dst_h / (need[3] - need[1]))
    s_left, s_right, t_left, t_right = _fit_axis(need[0], need[2], src_w, dst_w, scale)
    s_top, s_bottom, t_top, t_bottom = _fit_axis(need[1], need[3], src_h, dst_h, scale)
    return Placement(
        (s_left, s_top, s_right, s_bottom), (t_left, t_top, t_right, t_bottom), (dst_w, dst_h), True
    )


def render_export(image: Image.Image, preset: ExportPreset | str, focus: Box | None = None) -> bytes:
    """One export of ``image``: framed around ``focus`` (:func:`place`), resized with LANCZOS, sRGB,
    encoded.

    JPEG presets give a progressive RGB JPEG at the preset quality, PNG presets an RGB PNG (with the
    preset's dpi), ``original`` the unresized image as PNG (alpha kept). Embedded ICC profiles are
    converted to sRGB and not written out; no metadata is. Unknown keys raise ValueError.
    """
    return render_all(image, [preset], focus)[preset if isinstance(preset, str) else preset.key]


def render_all(
    image: Image.Image, presets: Iterable[ExportPreset | str], focus: Box | None = None
) -> dict[str, bytes]:
    """Every export in ``presets`` (see :func:`render_export`), keyed as given, identical ones shared."""
    resolved = resolve_presets(presets)
    display = to_srgb(image)
    return _render_exports(display, flatten(display), resolved, focus)


def render_outputs(
    image: Image.Image, preset_keys: Iterable[ExportPreset | str], focus: Box | None = None
) -> Outputs:
    """The WebP thumbnail and every requested export of ``image``, from this one decoded image.

    Validates all keys first (ValueError on an unknown one), normalises to sRGB once, then resizes
    once per distinct output size and encodes once per distinct specification (instagram_story and
    tiktok, or shopee_product and lazada_product, share one encode and one ``bytes`` object). Pass a
    loaded image: loading a lazy one mutates it, which is not thread-safe.
    """
    resolved = resolve_presets(preset_keys)
    display = to_srgb(image)
    flat = flatten(display)
    reductions: dict[int, Image.Image] = {}
    size = thumbnail_size(flat.size)
    small = _fit(flat, reductions, (0, 0, *flat.size), size)
    thumbnail = encode_webp(small)
    del small
    exports = _render_exports(display, flat, resolved, focus, reductions)
    return Outputs(thumbnail=thumbnail, thumbnail_size=size, exports=exports)


def thumbnail_size(size: Size, longest_side: int = THUMBNAIL_LONGEST_SIDE) -> Size:
    """The size of the thumbnail of an image of ``size``: longest side ``longest_side``, never enlarged."""
    width, height = size
    scale = longest_side / max(width, height)
    if scale >= 1:
        return (width, height)
    return (max(1, round(width * scale)), max(1, round(height * scale)))


def to_srgb(image: Image.Image) -> Image.Image:
    """A metadata-free RGB (or RGBA, when ``image`` has transparency) copy of ``image`` in sRGB.

    An embedded ICC profile other than sRGB is applied (CMYK, wide-gamut RGB, grey); a profile that
    cannot be used is ignored, the pixels then being taken as sRGB. 16-bit grey is scaled to 8 bits;
    other modes convert the usual way.
    """
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    target = "RGBA" if has_alpha else "RGB"
    icc = image.info.get("icc_profile")
    working = _grey_16_to_8(image) if image.mode in _WIDE_GREY_MODES else image
    if isinstance(icc, bytes) and icc:
        working = _apply_profile(working, icc, has_alpha) or working
    result = working.convert(target) if working.mode != target else working.copy()
    # The profile (now applied), EXIF, text chunks and the like must not leak into any output: encoders
    # fall back to ``info`` for some of them, and resize copies ``info`` along.
    result.info = {}
    return result


def flatten(image: Image.Image) -> Image.Image:
    """``image`` (RGB or RGBA) as RGB, transparent pixels composited over :data:`BACKGROUND`."""
    if image.mode == "RGB":
        return image
    if image.mode != "RGBA":
        raise ValueError(f"expected an RGB or RGBA image, got mode {image.mode}")
    canvas = Image.new("RGBA", image.size, (*BACKGROUND, 255))
    flat = Image.alpha_composite(canvas, image).convert("RGB")
    flat.info = {}
    return flat


# --------------------------------------------------------------------------------------------------
# Internals


def _render_exports(
    display: Image.Image,
    flat: Image.Image,
    presets: Mapping[str, ExportPreset],
    focus: Box | None,
    reductions: dict[int, Image.Image] | None = None,
) -> dict[str, bytes]:
    """Encode each distinct spec once; sized specs come from ``flat``, the original from ``display``."""
    specs = {key: _spec(preset) for key, preset in presets.items()}
    by_size: dict[Size, list[_Spec]] = {}
    for spec in dict.fromkeys(specs.values()):  # distinct, in request order
        if spec.size is not None:
            by_size.setdefault(spec.size, []).append(spec)
    reductions = {} if reductions is None else reductions
    encoded: dict[_Spec, bytes] = {}
    for size, group in by_size.items():
        placement = place(flat.width, flat.height, size[0], size[1], focus)
        # One resize per size, released before the next, so peak memory is one output image.
        resized = _framed(flat, reductions, placement)
        for spec in group:
            encoded[spec] = _encode(resized, spec)
        del resized
    for spec in set(specs.values()) - set(encoded):
        encoded[spec] = _encode(display, spec)  # the original: unresized, alpha kept
    return {key: encoded[spec] for key, spec in specs.items()}


def _inside(inner: Box, outer: Box) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _fit_axis(lo: int, hi: int, length: int, dst: int, scale: float) -> tuple[int, int, int, int]:
    """One axis of a fitted placement: (source start, source end, target start, target end).

    The export window is ``dst / scale`` source pixels long, centred on ``[lo, hi)`` and shifted so
    that it shows as much of the image as it can: inside the image when shorter than it, around the
    whole image when longer (the rest is then edge extension).
    """
    window = dst / scale
    centre = (lo + hi) / 2
    if window < length:  # the export shows part of the image along this axis, edge to edge
        start = min(max(math.floor(centre - window / 2 + 0.5), 0), length - math.ceil(window))
        return start, min(length, start + round(window)), 0, dst
    # The whole image along this axis, as centred on the figure as keeps it wholly in the export.
    start_f = min(max(centre - window / 2, length - window), 0.0)
    t_lo = max(0, round(-start_f * scale))
    t_hi = min(dst, max(t_lo + 1, round((length - start_f) * scale)))
    return 0, length, t_lo, t_hi


def _framed(source: Image.Image, reductions: dict[int, Image.Image], placement: Placement) -> Image.Image:
    """The export's pixels: the placed part of ``source``, the rest of the canvas its blurred edges."""
    t_left, t_top, t_right, t_bottom = placement.target
    inner = _fit(source, reductions, placement.source, (t_right - t_left, t_bottom - t_top))
    return extend_canvas(inner, placement)


def extend_canvas(inner: Image.Image, placement: Placement) -> Image.Image:
    """``inner`` (RGB, the size of ``placement.target``) on a canvas of ``placement.size``.

    The extension replicates the image's border rows and columns outwards and blurs them, and is not
    darkened: a flat background therefore continues in exactly its own colour, and a textured one
    becomes a soft, matching backdrop. The image itself is pasted over it unblurred.
    """
    size = placement.size
    t_left, t_top, t_right, t_bottom = placement.target
    if (t_left, t_top, t_right, t_bottom) == (0, 0, *size):
        return inner
    pixels = np.asarray(inner)
    padded = np.pad(
        pixels,
        ((t_top, size[1] - t_bottom), (t_left, size[0] - t_right), (0, 0)),
        mode="edge",
    )
    canvas = Image.fromarray(padded, "RGB").filter(
        ImageFilter.GaussianBlur(max(1.0, min(size) * EXTENSION_BLUR))
    )
    canvas.paste(inner, (t_left, t_top))
    return canvas


def _encode(image: Image.Image, spec: _Spec) -> bytes:
    if spec.format == "jpeg":
        assert spec.quality is not None  # the preset table gives every JPEG a quality
        return encode_jpeg(image, spec.quality)
    return encode_png(image, dpi=spec.dpi)


def _fit(source: Image.Image, reductions: dict[int, Image.Image], box: Box, size: Size) -> Image.Image:
    """``box`` of ``source`` resized to ``size`` with LANCZOS; big downscales go via a shared reduction."""
    left, top, right, bottom = box
    if (right - left, bottom - top) == size:
        return source.crop(box)  # nothing to resample
    factor = math.floor(min((right - left) / size[0], (bottom - top) / size[1]) / REDUCING_GAP)
    if factor < 2:
        return source.resize(size, Image.Resampling.LANCZOS, box=box)
    reduced = reductions.get(factor)
    if reduced is None:
        reduced = reductions[factor] = source.reduce(factor)
    scaled = (left / factor, top / factor, right / factor, bottom / factor)
    return reduced.resize(size, Image.Resampling.LANCZOS, box=scaled)


def _grey_16_to_8(image: Image.Image) -> Image.Image:
    """A 16-bit grey image (mode I or I;16*) as 8-bit L, keeping the top byte of each sample."""
    samples = np.asarray(image).astype(np.int64)
    return Image.fromarray((np.clip(samples, 0, 0xFFFF) >> 8).astype(np.uint8), "L")


def _place(centre: float, length: int, limit: int) -> int:
    """Start of a span of ``length`` centred on ``centre``, shifted to lie within ``[0, limit)``."""
    return min(max(math.floor(centre - length / 2 + 0.5), 0), limit - length)


def _apply_profile(image: Image.Image, icc: bytes, has_alpha: bool) -> Image.Image | None:
    """``image`` converted from its ICC profile to sRGB (RGB or RGBA), or None if unnecessary/unusable."""
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower():
            return None  # already sRGB: a transform would only cost time (and round)
        colour = image
        if colour.mode in ("P", "PA"):
            colour = colour.convert("RGBA" if has_alpha else "RGB")  # a palette holds RGB values
        alpha = colour.getchannel("A") if colour.mode in ("RGBA", "LA") else None
        if alpha is not None:
            colour = colour.convert("RGB" if colour.mode == "RGBA" else "L")
        if colour.mode not in ("RGB", "L", "CMYK"):
            return None
        # Profiles are built per call: sharing lcms objects across threads is not documented as safe.
        converted = ImageCms.profileToProfile(
            colour, profile, ImageCms.createProfile("sRGB"), outputMode="RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken or mismatched profile: fall back to taking the pixels as sRGB
    if converted is None:
        return None
    if alpha is not None:
        converted.putalpha(alpha)
    return converted
