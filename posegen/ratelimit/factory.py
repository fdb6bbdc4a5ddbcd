"""The limiter and the rules, chosen once from settings."""

from __future__ import annotations

from dataclasses import dataclass

from posegen.config import Settings
from posegen.ratelimit.limiter import RateLimiter, Rule
from posegen.ratelimit.memory import MemoryRateLimiter
from posegen.ratelimit.redis_limiter import RedisRateLimiter

WEBSOCKETS = "websockets"


@dataclass(frozen=True)
class Rules:
    """Every sliding-window limit of the service."""

    poses: Rule
    writes: Rule
    auth: Rule
    detections: Rule
    websockets_per_user: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        limits = settings.limits
        return cls(
            poses=Rule("poses", limits.poses_per_hour, limits.poses_window_seconds),
            writes=Rule("writes", limits.writes_per_minute, limits.writes_window_seconds),
            auth=Rule("auth", limits.auth_per_minute, limits.auth_window_seconds),
            detections=Rule(
                "detections", limits.pose_detections_per_hour, limits.pose_detections_window_seconds
            ),
            websockets_per_user=limits.websockets_per_user,
        )


def create_limiter(settings: Settings) -> RateLimiter:
    """Redis counters when `POSEGEN_REDIS_URL` is set (every process shares them), else memory."""
    if settings.redis.url:
        return RedisRateLimiter(settings.redis.url)
    return MemoryRateLimiter()
