"""Export presets: the one table of output sizes and formats (DATA.md)."""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from typing import Literal

ImageFormat = Literal["jpeg", "png"]


@dataclass(frozen=True)
class ExportPreset:
    key: str
    width: int | None  # None: the original size
    height: int | None
    format: ImageFormat
    quality: int | None  # JPEG quality; None for PNG
    dpi: int | None = None

    @property
    def aspect(self) -> str:
        """Width:height in lowest terms (e.g. "9:16"), or "original"."""
        if self.width is None or self.height is None:
            return "original"
        divisor = gcd(self.width, self.height)
        return f"{self.width // divisor}:{self.height // divisor}"

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else "png"


PRESETS: dict[str, ExportPreset] = {
    preset.key: preset
    for preset in (
        ExportPreset("instagram_story", 1080, 1920, "jpeg", 90),
        ExportPreset("instagram_feed", 1080, 1080, "jpeg", 85),
        ExportPreset("instagram_portrait", 1080, 1350, "jpeg", 85),
        ExportPreset("tiktok", 1080, 1920, "jpeg", 90),
        ExportPreset("shopee_product", 1000, 1000, "jpeg", 95),
        ExportPreset("tokopedia_product", 1200, 1200, "jpeg", 95),
        ExportPreset("lazada_product", 1000, 1000, "jpeg", 95),
        ExportPreset("facebook_post", 1200, 630, "jpeg", 85),
        ExportPreset("twitter_post", 1200, 675, "jpeg", 85),
        ExportPreset("linkedin_post", 1200, 627, "jpeg", 85),
        ExportPreset("whatsapp_status", 720, 1280, "jpeg", 85),
        ExportPreset("youtube_thumbnail", 1280, 720, "jpeg", 85),
        ExportPreset("pinterest_pin", 1000, 1500, "jpeg", 85),
        ExportPreset("print_a4", 2480, 3508, "png", None, dpi=300),
        ExportPreset("print_4x6", 1800, 1200, "png", None, dpi=300),
        ExportPreset("original", None, None, "png", None),
    )
}

# Names the original app used for the same preset.
ALIASES: dict[str, str] = {"instagram_post": "instagram_feed"}


def resolve_preset(key: str) -> ExportPreset | None:
    """The preset named `key` (or one of its aliases), or None."""
    return PRESETS.get(ALIASES.get(key, key))
