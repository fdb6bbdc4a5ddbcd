"""Exports: preset sizes and formats, cover-crop framing, colour handling, thumbnail, shared work."""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.typing import NDArray
from PIL import Image, ImageCms, ImageDraw

from posegen.imaging import exports
from posegen.imaging.exports import (
    Outputs,
    render_all,
    render_export,
    render_outputs,
    to_srgb,
)
from posegen.imaging.framing import cover_crop_box
from posegen.imaging.geometry import figure_box
from posegen.imaging.mannequin import MannequinRender, render_mannequin
from posegen.imaging.presets import PRESETS, ExportPreset
from posegen.imaging.thumbnails import encode_jpeg
from tests.imaging.poses import STANDING

RED = (220, 20, 20)
SMALL_PNG = ExportPreset("small_png", 320, 240, "png", None, dpi=72)
GREY = (120, 120, 120)


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def pixels(image: Image.Image) -> NDArray[np.int16]:
    return np.asarray(image, dtype=np.int16)


def scene(size: tuple[int, int], box: tuple[int, int, int, int], *, noisy: bool = True) -> Image.Image:
    """A grey (textured, unless told otherwise) background with a red "figure" rectangle at ``box``."""
    if noisy:
        rng = np.random.default_rng(7)
        noise = rng.integers(90, 150, size=(size[1], size[0], 3), dtype=np.uint8)
        image = Image.fromarray(noise, "RGB")
    else:
        image = Image.new("RGB", size, GREY)
    ImageDraw.Draw(image).rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=RED)
    return image


def red_fraction(image: Image.Image) -> float:
    array = pixels(image.convert("RGB"))
    red = (array[..., 0] > 180) & (array[..., 1] < 70) & (array[..., 2] < 70)
    return float(red.mean())


@pytest.fixture(scope="module")
def mannequin() -> MannequinRender:
    return render_mannequin(STANDING, [0.0] * 18, 1024, 1024)


@pytest.fixture(scope="module")
def all_outputs(mannequin: MannequinRender) -> Outputs:
    focus = figure_box(STANDING, mannequin.transform, padded=True)
    return render_outputs(mannequin.image, list(PRESETS), focus)


# --------------------------------------------------------------------------------------------------
# Sizes and formats


@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_has_its_size_format_and_options(
    key: str, all_outputs: Outputs, mannequin: MannequinRender
) -> None:
    preset = PRESETS[key]
    image = decode(all_outputs.exports[key])
    expected = mannequin.image.size if preset.width is None else (preset.width, preset.height)
    assert image.size == expected
    assert image.format == preset.format.upper()
    assert image.mode == "RGB"
    assert "icc_profile" not in image.info
    if preset.format == "jpeg":
        assert image.info.get("progressive") == 1
    if preset.dpi is not None:
        assert tuple(round(value) for value in image.info["dpi"]) == (preset.dpi, preset.dpi)
    else:
        assert "dpi" not in image.info or preset.format == "jpeg"


@pytest.mark.parametrize("key", [key for key, preset in PRESETS.items() if preset.format == "jpeg"])
def test_jpeg_quality_is_the_presets(key: str, all_outputs: Outputs) -> None:
    # The same libjpeg at the same quality writes the same quantisation tables: an exact check.
    preset = PRESETS[key]
    assert preset.quality is not None
    reference = decode(encode_jpeg(Image.new("RGB", (16, 16)), preset.quality))
    exported = decode(all_outputs.exports[key])
    assert isinstance(exported, Image.Image)
    assert getattr(exported, "quantization", None) == getattr(reference, "quantization", None)


def test_higher_quality_gives_more_bytes(mannequin: MannequinRender) -> None:
    low = ExportPreset("low", 1000, 1000, "jpeg", 60)
    high = ExportPreset("high", 1000, 1000, "jpeg", 95)
    assert len(render_export(mannequin.image, high)) > len(render_export(mannequin.image, low))


def test_thumbnail_is_webp_with_longest_side_400(all_outputs: Outputs) -> None:
    image = decode(all_outputs.thumbnail)
    assert image.format == "WEBP"
    assert image.size == all_outputs.thumbnail_size == (400, 400)


def test_thumbnail_keeps_aspect_and_never_enlarges() -> None:
    wide = render_outputs(Image.new("RGB", (1600, 900), GREY), [])
    assert decode(wide.thumbnail).size == wide.thumbnail_size == (400, 225)
    small = render_outputs(Image.new("RGB", (300, 200), GREY), [])
    assert decode(small.thumbnail).size == (300, 200)


def test_original_is_the_unchanged_pixels(mannequin: MannequinRender) -> None:
    image = decode(render_export(mannequin.image, "original"))
    assert image.format == "PNG"
    assert np.array_equal(pixels(image), pixels(mannequin.image))


def test_original_keeps_transparency() -> None:
    source = Image.new("RGBA", (64, 48), (10, 200, 30, 0))
    source.putpixel((5, 5), (1, 2, 3, 255))
    image = decode(render_export(source, "original"))
    assert image.mode == "RGBA"
    assert np.array_equal(pixels(image), pixels(source))


# --------------------------------------------------------------------------------------------------
# Cover crop


@given(
    src=st.tuples(st.integers(1, 5000), st.integers(1, 5000)),
    dst=st.tuples(st.integers(1, 4000), st.integers(1, 4000)),
    focus_corner=st.tuples(st.floats(-0.2, 1.0), st.floats(-0.2, 1.0)),
    focus_extent=st.tuples(st.floats(0.01, 1.2), st.floats(0.01, 1.2)),
    use_focus=st.booleans(),
)
def test_cover_crop_is_the_largest_inside_crop_with_the_aspect(
    src: tuple[int, int],
    dst: tuple[int, int],
    focus_corner: tuple[float, float],
    focus_extent: tuple[float, float],
    use_focus: bool,
) -> None:
    src_w, src_h = src
    # Below one pixel on the cut side the crop is clamped to 1 px and the aspect cannot be kept.
    assume(min(src_h * dst[0] / dst[1], src_w * dst[1] / dst[0]) >= 1)
    left = int(focus_corner[0] * src_w)
    top = int(focus_corner[1] * src_h)
    focus = (
        left,
        top,
        left + max(1, int(focus_extent[0] * src_w)),
        top + max(1, int(focus_extent[1] * src_h)),
    )
    x0, y0, x1, y1 = cover_crop_box(src_w, src_h, dst[0], dst[1], focus if use_focus else None)
    crop_w, crop_h = x1 - x0, y1 - y0
    assert 0 <= x0 < x1 <= src_w and 0 <= y0 < y1 <= src_h
    # Largest: one side is the whole image.
    assert crop_w == src_w or crop_h == src_h
    # Aspect kept up to rounding one side to whole pixels.
    assert abs(crop_w * dst[1] - crop_h * dst[0]) <= max(dst) // 2 + 1
    if use_focus:
        f_left, f_top = max(focus[0], 0), max(focus[1], 0)
        f_right, f_bottom = min(focus[2], src_w), min(focus[3], src_h)
        if f_right > f_left and f_bottom > f_top:
            for lo, hi, c_lo, c_hi in ((f_left, f_right, x0, x1), (f_top, f_bottom, y0, y1)):
                if hi - lo <= c_hi - c_lo:
                    assert c_lo <= lo and hi <= c_hi  # a focus that fits is kept whole
                else:
                    assert abs((c_lo + c_hi) - (lo + hi)) <= 1  # a larger one stays centred


def test_cover_crop_without_focus_is_centred() -> None:
    assert cover_crop_box(1920, 1080, 1000, 1000) == (420, 0, 1500, 1080)
    assert cover_crop_box(1024, 1024, 1200, 630) == (0, 243, 1024, 781)
    assert cover_crop_box(800, 600, 400, 300) == (0, 0, 800, 600)


def test_cover_crop_centres_on_a_figure_in_the_left_third() -> None:
    source_size, figure = (3000, 1000), (700, 200, 900, 900)
    box = cover_crop_box(*source_size, 1080, 1080, figure)
    assert box == (300, 0, 1300, 1000)
    image = decode(render_export(scene(source_size, figure), "instagram_feed", figure))
    # Centred: the red figure sits in the middle of the export, not in the (noisy) centre of the source.
    middle = pixels(image)[540, 540]
    assert middle[0] > 180 and middle[1] < 70
    assert red_fraction(image) == pytest.approx(200 * 700 / 1000**2, abs=0.01)


def test_cover_crop_is_shifted_to_stay_inside() -> None:
    assert cover_crop_box(3000, 1000, 1, 1, (0, 0, 50, 50)) == (0, 0, 1000, 1000)
    assert cover_crop_box(3000, 1000, 1, 1, (2950, 0, 3000, 50)) == (2000, 0, 3000, 1000)


def test_a_focus_outside_the_image_is_ignored() -> None:
    assert cover_crop_box(1920, 1080, 1, 1, (5000, 0, 5100, 10)) == cover_crop_box(1920, 1080, 1, 1)


def test_an_empty_focus_box_is_refused() -> None:
    with pytest.raises(ValueError, match="focus"):
        cover_crop_box(100, 100, 10, 10, (50, 50, 50, 60))


def test_facebook_crop_of_a_square_render_keeps_a_figure_that_fits() -> None:
    # A 1.91:1 crop of a 1024² image is 538 px tall: a figure 480 px tall, low in the frame, fits only
    # if the crop follows it (a centred crop would cut rows 781 and below: the feet).
    figure = (600, 500, 800, 980)
    image = decode(render_export(scene((1024, 1024), figure), "facebook_post", figure))
    assert image.size == (1200, 630)
    scale = 630 / 538
    assert red_fraction(image) == pytest.approx(200 * 480 * scale**2 / (1200 * 630), rel=0.03)


def test_facebook_crop_of_a_standing_mannequin_stays_centred_on_it(mannequin: MannequinRender) -> None:
    focus = figure_box(STANDING, mannequin.transform, padded=True)
    left, top, right, bottom = cover_crop_box(1024, 1024, 1200, 630, focus)
    assert (left, right) == (0, 1024)  # the whole width, so the figure is never cut at the sides
    assert abs((top + bottom) - (focus[1] + focus[3])) <= 1


# --------------------------------------------------------------------------------------------------
# Colour


@pytest.mark.parametrize("mode", ["CMYK", "P", "RGBA", "LA", "L", "1", "I;16"])
@pytest.mark.parametrize("key", ["instagram_feed", "small_png", "original"])
def test_any_input_mode_comes_out_rgb(mode: str, key: str) -> None:
    source = scene((300, 200), (100, 50, 200, 150), noisy=False).convert(mode)
    image = decode(render_export(source, SMALL_PNG if key == "small_png" else key))
    expected = "RGBA" if key == "original" and mode in ("RGBA", "LA") else "RGB"
    assert image.mode == expected


@pytest.mark.parametrize("mode", ["I;16", "I"])
def test_16_bit_grey_is_scaled_not_clipped(mode: str) -> None:
    source = Image.new(mode, (40, 30), 0x8000)
    source.putpixel((0, 0), 0xFFFF)
    image = decode(render_export(source, "original"))
    assert image.mode == "RGB"
    assert pixels(image)[0, 0].tolist() == [255, 255, 255]
    assert pixels(image)[10, 10].tolist() == [128, 128, 128]


def test_transparent_pixels_become_white() -> None:
    source = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    image = decode(render_export(source, SMALL_PNG))
    assert pixels(image).min() >= 254


def test_palette_transparency_is_honoured() -> None:
    source = Image.new("P", (100, 100), 0)
    source.putpalette([0, 0, 0, 255, 0, 0])
    source.info["transparency"] = 0
    assert to_srgb(source).mode == "RGBA"
    image = decode(render_export(source, SMALL_PNG))
    assert pixels(image).min() >= 254


def _srgb_profile(described_as: bytes = b"s\x00R\x00G\x00B") -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    # The built-in description is UTF-16 "sRGB built-in"; renaming it makes the profile look foreign.
    return profile.replace(b"s\x00R\x00G\x00B", described_as, 1)


def test_an_srgb_profile_is_dropped_and_the_pixels_kept(mannequin: MannequinRender) -> None:
    source = mannequin.image.copy()
    source.info["icc_profile"] = _srgb_profile()
    image = decode(render_export(source, "original"))
    assert "icc_profile" not in image.info
    assert np.array_equal(pixels(image), pixels(mannequin.image))


def test_a_foreign_profile_is_applied_and_not_written(mannequin: MannequinRender) -> None:
    source = mannequin.image.copy()
    source.info["icc_profile"] = _srgb_profile(b"x\x00R\x00G\x00B")  # sRGB data, "xRGB" name
    assert exports._apply_profile(source, source.info["icc_profile"], False) is not None
    for key in ("original", "instagram_feed"):
        image = decode(render_export(source, key))
        assert "icc_profile" not in image.info
    # An sRGB→sRGB transform is the identity up to rounding.
    original = decode(render_export(source, "original"))
    assert np.abs(pixels(original) - pixels(mannequin.image)).max() <= 2


def test_a_broken_profile_is_ignored() -> None:
    source = Image.new("RGB", (50, 50), GREY)
    source.info["icc_profile"] = b"not a profile"
    image = decode(render_export(source, "original"))
    assert "icc_profile" not in image.info
    assert np.array_equal(pixels(image), pixels(source))


@pytest.mark.parametrize("described_as", [b"s\x00R\x00G\x00B", b"x\x00R\x00G\x00B"], ids=["srgb", "foreign"])
def test_the_input_image_is_not_modified(mannequin: MannequinRender, described_as: bytes) -> None:
    # One profile, kept: two built a second apart differ (an ICC header carries its creation
    # time), which once made this comparison fail by the clock rather than by the code.
    profile = _srgb_profile(described_as)
    source = mannequin.image.copy()
    source.info["icc_profile"] = profile
    info_before = dict(source.info)
    mode_before, before = source.mode, pixels(source).copy()
    render_outputs(source, ["instagram_feed", "original"])
    assert source.info == info_before and source.info["icc_profile"] is profile
    assert source.mode == mode_before
    assert np.array_equal(pixels(source), before)


# --------------------------------------------------------------------------------------------------
# Keys and shared work


def test_unknown_keys_are_refused() -> None:
    image = Image.new("RGB", (10, 10))
    with pytest.raises(ValueError, match="gif_banner"):
        render_outputs(image, ["instagram_feed", "gif_banner"])
    with pytest.raises(ValueError, match="nope"):
        render_export(image, "nope")


def test_the_alias_gives_the_same_bytes(all_outputs: Outputs) -> None:
    image = Image.new("RGB", (64, 64), GREY)
    outputs = render_all(image, ["instagram_post", "instagram_feed"])
    assert outputs["instagram_post"] is outputs["instagram_feed"]


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[Any]:
    calls: list[Any] = []
    original: Callable[..., Any] = getattr(exports, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(exports, name, wrapper)
    return calls


def test_render_outputs_encodes_each_distinct_output_once(monkeypatch: pytest.MonkeyPatch) -> None:
    encodes = _counting(monkeypatch, "_encode")
    resizes = _counting(monkeypatch, "_fit")
    conversions = _counting(monkeypatch, "to_srgb")
    outputs = render_outputs(Image.new("RGB", (256, 256), GREY), list(PRESETS))
    assert set(outputs.exports) == set(PRESETS)
    # 16 presets, two pairs of identical specs: 14 encodes. 13 distinct sizes plus the thumbnail.
    assert len(encodes) == 14
    assert len(resizes) == 14
    assert len(conversions) == 1
    assert outputs.exports["tiktok"] is outputs.exports["instagram_story"]
    assert outputs.exports["lazada_product"] is outputs.exports["shopee_product"]


def test_presets_sharing_a_size_share_the_resize(monkeypatch: pytest.MonkeyPatch) -> None:
    resizes = _counting(monkeypatch, "_fit")
    encodes = _counting(monkeypatch, "_encode")
    low = ExportPreset("low", 300, 200, "jpeg", 70)
    png = ExportPreset("png", 300, 200, "png", None)
    out = render_all(Image.new("RGB", (600, 600), GREY), [low, png])
    assert len(resizes) == 1 and len(encodes) == 2
    assert decode(out["low"]).format == "JPEG" and decode(out["png"]).format == "PNG"


def test_large_downscales_go_through_one_shared_reduction(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    smooth = Image.fromarray(rng.integers(0, 255, (60, 80, 3), dtype=np.uint8), "RGB")
    source = smooth.resize((4000, 3000), Image.Resampling.BICUBIC)
    reductions: list[Any] = []
    real_reduce = Image.Image.reduce

    def counting_reduce(self: Image.Image, *args: Any, **kwargs: Any) -> Image.Image:
        reductions.append(args)
        return real_reduce(self, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "reduce", counting_reduce)
    outputs = render_outputs(
        source, ["whatsapp_status"]
    )  # 720×1280 from a 1688×3000 crop: 2.3×, plain LANCZOS
    assert len(reductions) == 1  # the thumbnail (10×) only
    monkeypatch.undo()
    # Indistinguishable from a plain LANCZOS resize (compared before the lossy WebP encode).
    size = outputs.thumbnail_size
    shared = exports._fit(source, {}, (0, 0, *source.size), size)
    direct = source.resize(size, Image.Resampling.LANCZOS)
    assert np.abs(pixels(shared) - pixels(direct)).mean() < 1.0


def test_outputs_are_deterministic_and_thread_safe() -> None:
    source = scene((640, 480), (300, 100, 400, 400), noisy=False)
    keys: list[str | ExportPreset] = ["instagram_story", "facebook_post", SMALL_PNG, "original"]
    expected = render_outputs(source, keys, (300, 100, 400, 400))
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: render_outputs(source, keys, (300, 100, 400, 400)), range(8)))
    for result in results:
        assert result.thumbnail == expected.thumbnail
        assert dict(result.exports) == dict(expected.exports)
