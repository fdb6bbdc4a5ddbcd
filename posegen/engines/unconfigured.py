"""An engine this build offers but this process was not configured for: listed by `GET /engines`
as unavailable, with what to set, so a user sees the engines that take the pose and how to turn
them on; submissions naming it are refused like any unavailable engine's."""

from __future__ import annotations

from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    EngineError,
    ErrorCode,
    Quality,
    RenderContext,
    RenderRequest,
    RenderResult,
    RetrySchedule,
)


class UnconfiguredEngine:
    supports_control_image = True
    draws_pose_exactly = False
    draws_figure = True
    default_size = 512
    qualities: tuple[Quality, ...] = ("draft", "standard", "pro")
    background_modes = frozenset({"ai_generate"})
    retry_delays: RetrySchedule = DEFAULT_RETRY_DELAYS
    takes_avatar_image = False

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description

    def available(self) -> bool:
        return False

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        # Never claimed: workers only claim for available engines.
        raise EngineError(ErrorCode.PROVIDER_UNAVAILABLE, f"{self.name} is not configured", retryable=True)

    async def aclose(self) -> None:
        return None
