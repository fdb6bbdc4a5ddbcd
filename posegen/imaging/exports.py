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
from PIL import Image, ImageCms

from posegen.imaging.framing import (
    Box,
    Placement,
    Size,
    extend_canvas,
    place,
)
from posegen.imaging.presets import ExportPreset, ImageFormat, resolve_preset
from posegen.imaging.thumbnails import (
    THUMBNAIL_LONGEST_SIDE,
    encode_jpeg,
    encode_png,
    encode_webp,
)

# What transparent pixels become in the RGB outputs: JPEG has no alpha, and white is what a
# transparent product shot is shown on almost everywhere.
BACKGROUND = (255, 255, 255)

# A downscale by at least this factor first shrinks the source by an integer factor with a box filter
# (Image.reduce), then finishes with LANCZOS. It is what Pillow's ``reducing_gap`` does; with a gap of
# 3 the result is indistinguishable from a plain LANCZOS resize, at a fraction of the cost. Doing the
# reduction here rather than per resize call lets every preset that needs it share one reduced copy.
REDUCING_GAP = 3.0


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


def _framed(source: Image.Image, reductions: dict[int, Image.Image], placement: Placement) -> Image.Image:
    """The export's pixels: the placed part of ``source``, the rest of the canvas its blurred edges."""
    t_left, t_top, t_right, t_bottom = placement.target
    inner = _fit(source, reductions, placement.source, (t_right - t_left, t_bottom - t_top))
    return extend_canvas(inner, placement)


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
