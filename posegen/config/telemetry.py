"""Watching a running posegen: logs, Prometheus metrics, monitoring thresholds."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator


class LogSettings(BaseModel):
    level: str = Field("INFO", description="Minimum level of log lines written to standard output.")
    json_lines: bool = Field(
        True, description="One JSON object per line; false gives coloured console lines."
    )


class MetricsSettings(BaseModel):
    token: SecretStr | None = Field(
        None,
        description=(
            "Bearer token a Prometheus scraper sends to `/metrics` (at least 32 characters); "
            "empty switches the endpoint off (404)."
        ),
    )
    worker_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description=(
            "Port on which `posegen worker` serves its own `/metrics` (same token); "
            "empty serves none. `posegen worker --metrics-port` overrides it."
        ),
    )
    worker_host: str = Field("127.0.0.1", description="Interface the worker's `/metrics` listener binds to.")


class MonitoringSettings(BaseModel):
    """DATA.md's monitoring thresholds. A signal is `warn` from its warn value on and `critical`
    past its critical value; either makes `/health` report `degraded` (docs/decisions.md)."""

    queue_depth_warn: int = Field(
        100, ge=1, description="Queued and running poses from which the queue warns."
    )
    queue_depth_critical: int = Field(
        500, ge=1, description="Queued and running poses above which the queue is critical."
    )
    oldest_queued_warn_seconds: float = Field(
        300.0, gt=0, description="Age of the oldest queued pose from which the queue warns."
    )
    oldest_queued_critical_seconds: float = Field(
        900.0, gt=0, description="Age of the oldest queued pose above which the queue is critical."
    )
    success_rate_warn: float = Field(
        95.0, ge=0, le=100, description="Pose success rate (%) in the window at or below which it warns."
    )
    success_rate_critical: float = Field(
        90.0, ge=0, le=100, description="Pose success rate (%) in the window below which it is critical."
    )
    refund_rate_warn: float = Field(
        5.0, ge=0, le=100, description="Credits refunded / charged (%) in the window from which it warns."
    )
    refund_rate_critical: float = Field(
        10.0,
        ge=0,
        le=100,
        description="Credits refunded / charged (%) in the window above which it is critical.",
    )
    pose_time_p95_warn_seconds: float = Field(
        30.0, gt=0, description="p95 render time per pose in the window from which it warns."
    )
    pose_time_p95_critical_seconds: float = Field(
        60.0, gt=0, description="p95 render time per pose in the window above which it is critical."
    )
    window_seconds: float = Field(
        3600.0,
        gt=0,
        le=30 * 86400,
        description="Window of the rate and time signals (poses submitted in it).",
    )
    min_finished_poses: int = Field(
        20,
        ge=1,
        description="Finished poses the window needs before its success and refund rates and p95 are judged.",
    )
    interval_seconds: float = Field(
        30.0,
        gt=0,
        le=3600,
        description="How often each API process evaluates the thresholds between health checks.",
    )

    @model_validator(mode="after")
    def _warn_before_critical(self) -> Self:
        pairs = (
            ("QUEUE_DEPTH", self.queue_depth_warn, self.queue_depth_critical),
            ("OLDEST_QUEUED", self.oldest_queued_warn_seconds, self.oldest_queued_critical_seconds),
            ("REFUND_RATE", self.refund_rate_warn, self.refund_rate_critical),
            ("POSE_TIME_P95", self.pose_time_p95_warn_seconds, self.pose_time_p95_critical_seconds),
            # Lower is worse: the warn rate lies above the critical one.
            ("SUCCESS_RATE", self.success_rate_critical, self.success_rate_warn),
        )
        for name, first, second in pairs:
            if first > second:
                raise ValueError(
                    f"POSEGEN_MONITORING_{name}: the warn threshold lies beyond the critical one"
                )
        return self
