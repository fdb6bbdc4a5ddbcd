"""Rate limits per user and client address, and the proxies trusted to name that address."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Self

from pydantic import BaseModel, Field, model_validator


class LimitSettings(BaseModel):
    poses_per_hour: int = Field(
        500,
        ge=1,
        le=100_000_000,
        description=(
            "Poses a user may submit per window (`poses_window_seconds`), weighted by each request's "
            "pose count; only accepted submissions count."
        ),
    )
    poses_window_seconds: int = Field(
        3600, ge=1, le=86_400, description="Window of `poses_per_hour` in seconds (tests shorten it)."
    )
    writes_per_minute: int = Field(
        60,
        ge=1,
        le=100_000_000,
        description="POST/PUT/PATCH/DELETE requests an authenticated user may make per write window.",
    )
    writes_window_seconds: int = Field(
        60, ge=1, le=86_400, description="Window of `writes_per_minute` in seconds (tests shorten it)."
    )
    auth_per_minute: int = Field(
        10,
        ge=1,
        le=100_000_000,
        description="Login and register attempts per client IP address per auth window.",
    )
    auth_window_seconds: int = Field(
        60, ge=1, le=86_400, description="Window of `auth_per_minute` in seconds (tests shorten it)."
    )
    pose_detections_per_hour: int = Field(
        30,
        ge=1,
        le=100_000_000,
        description=(
            "Poses a user may have detected in photos (`POST /poses/from-photo`, CPU-heavy) per window "
            "(`pose_detections_window_seconds`); refused photos count too."
        ),
    )
    pose_detections_window_seconds: int = Field(
        3600,
        ge=1,
        le=86_400,
        description="Window of `pose_detections_per_hour` in seconds (tests shorten it).",
    )
    websockets_per_user: int = Field(
        10,
        ge=1,
        le=100_000,
        description="Concurrent WebSocket connections per user; one more is closed with 4429 after auth.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses or CIDR blocks of reverse proxies (JSON list). Only a request from one of them "
            "has its client address read from `X-Forwarded-For` (the rightmost untrusted entry); "
            "otherwise the socket's peer address counts."
        ),
    )

    @model_validator(mode="after")
    def _proxies_parse(self) -> Self:
        for entry in self.trusted_proxies:
            try:
                ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"POSEGEN_LIMITS_TRUSTED_PROXIES: {entry!r} is not an address or CIDR"
                ) from exc
        return self
