"""A fixed-latency engine for tests and benchmarks only: measures orchestration, not rendering.

Never selectable through the API unless settings enable it (`POSEGEN_ENGINES_ENABLE_SLEEP`).
"""

from __future__ import annotations

import asyncio

from PIL import Image

from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    Quality,
    RenderContext,
    RenderRequest,
    RenderResult,
    RetrySchedule,
)


class SleepEngine:
    name = "sleep"
    description = "Waits a fixed time, then returns a plain valid image (tests and benchmarks)."
    supports_control_image = False
    draws_pose_exactly = False
    draws_figure = False  # a plain grey image: nothing for the pose check to find
    default_size = 1024
    qualities: tuple[Quality, ...] = ("draft", "standard", "pro")
    background_modes = frozenset({"ai_generate", "solid_color", "upload"})
    retry_delays: RetrySchedule = DEFAULT_RETRY_DELAYS
    takes_avatar_image = False

    def __init__(self, latency_seconds: float) -> None:
        self.latency = latency_seconds

    def available(self) -> bool:
        return True

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        await asyncio.sleep(self.latency)
        shade = request.seed % 200 + 30
        return RenderResult(image=Image.new("RGB", (request.width, request.height), (shade, shade, shade)))

    async def aclose(self) -> None:
        return None
