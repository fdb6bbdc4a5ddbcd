"""Rendering: image engines, the work queue and its workers, the pose check, live updates."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator


class EngineSettings(BaseModel):
    default: str = Field("mannequin", description="Engine used when a request names none.")
    flux_base_url: str = Field(
        "https://api-inference.huggingface.co",
        description="Base URL of a server speaking the Hugging Face Inference protocol.",
    )
    flux_token: SecretStr | None = Field(
        None, description="API token for the FLUX endpoint; empty disables `flux`."
    )
    flux_timeout_seconds: float = Field(120.0, gt=0, le=600, description="Timeout of one FLUX request.")
    breaker_failures: int = Field(
        5, ge=1, le=1000, description="Consecutive failures that open an engine's breaker."
    )
    breaker_reset_seconds: float = Field(
        60.0, gt=0, le=3600, description="How long an open breaker stops claims before a trial call."
    )
    enable_sleep: bool = Field(
        False, description="Offer the `sleep` engine (fixed latency; tests and benchmarks only)."
    )
    sleep_latency_ms: int = Field(200, ge=0, le=60_000, description="Latency of the `sleep` engine.")
    comfyui_urls: list[str] = Field(
        default_factory=list,
        description=(
            "Base URLs of the ComfyUI servers (a JSON list); each prompt goes to the least busy one. "
            "Empty disables `comfyui`."
        ),
    )
    comfyui_workflow: Path | None = Field(
        None,
        description=(
            "A ComfyUI workflow in API format with `$…` placeholders (it must use `$control_image`); "
            "unset: the shipped SD 1.5 + ControlNet OpenPose workflow."
        ),
    )
    comfyui_timeout_seconds: float = Field(
        300.0, gt=0, le=3600, description="Longest one ComfyUI render may take, queueing included."
    )
    comfyui_checkpoint: str = Field(
        "v1-5-pruned-emaonly.safetensors",
        min_length=1,
        description="Checkpoint file the workflow's `$checkpoint` names (on the ComfyUI servers).",
    )
    comfyui_controlnet: str = Field(
        "control_v11p_sd15_openpose.pth",
        min_length=1,
        description="ControlNet file the workflow's `$controlnet` names (on the ComfyUI servers).",
    )
    comfyui_steps_draft: int = Field(
        12, ge=1, le=200, description="ComfyUI sampler steps at quality `draft`."
    )
    comfyui_steps_standard: int = Field(
        25, ge=1, le=200, description="ComfyUI sampler steps at quality `standard`."
    )
    comfyui_steps_pro: int = Field(35, ge=1, le=200, description="ComfyUI sampler steps at quality `pro`.")
    comfyui_cfg: float = Field(7.0, gt=0, le=30, description="ComfyUI classifier-free guidance scale.")

    @field_validator("comfyui_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        cleaned = [url.strip().rstrip("/") for url in urls]
        for url in cleaned:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"ComfyUI URL {url!r} must start with http:// or https://")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("ComfyUI URLs must not repeat")
        return cleaned

    diffusers_enabled: bool = Field(
        False,
        description=(
            "Offer the `diffusers` engine: a pose-conditioned model (ControlNet OpenPose) on this process's "
            "own GPU. Needs `pip install 'posegen[local]'` and the weights in the local cache "
            "(`posegen models pull`); a missing one stops the process at start."
        ),
    )
    diffusers_base_model: str = Field(
        "stable-diffusion-v1-5/stable-diffusion-v1-5",
        description=(
            "Base model of the `diffusers` engine: a Hugging Face id (read from the local cache, never "
            "downloaded at render time) or a local directory."
        ),
    )
    diffusers_controlnet: str = Field(
        "lllyasviel/control_v11p_sd15_openpose",
        description="OpenPose ControlNet matching the base model (Hugging Face id or local directory).",
    )
    diffusers_variant: Literal["sd15", "sdxl", "flux"] = Field(
        "sd15",
        description=(
            "Model family of the base model and ControlNet: `sd15`, `sdxl` or `flux` (a FLUX ControlNet, "
            "union models included)."
        ),
    )
    diffusers_device: str = Field(
        "auto",
        pattern=r"^(auto|cpu|mps|cuda(:[0-9]+)?)$",
        description="Torch device of the `diffusers` engine: `auto` (cuda, else mps, else cpu), `cuda:N`, …",
    )
    diffusers_dtype: Literal["auto", "float16", "bfloat16", "float32"] = Field(
        "auto",
        description=(
            "Weight precision: `auto` is float16 on CUDA (bfloat16 for `flux`, which overflows in float16) "
            "and float32 elsewhere."
        ),
    )
    diffusers_ip_adapter: str | None = Field(
        None,
        description=(
            "IP-Adapter (Hugging Face id or local directory, e.g. `h94/IP-Adapter`) through which a "
            "request's avatar image conditions the render; empty: the avatar image is not used."
        ),
    )
    diffusers_ip_adapter_weight: str = Field(
        "models/ip-adapter_sd15.safetensors",
        description="Path of the IP-Adapter weight file inside `diffusers_ip_adapter` (subfolder/file).",
    )
    diffusers_ip_adapter_scale: float = Field(
        0.6, ge=0, le=2, description="How strongly the avatar image steers the render (IP-Adapter scale)."
    )
    diffusers_steps_draft: int = Field(12, ge=1, le=200, description="Denoising steps of a `draft` render.")
    diffusers_steps_standard: int = Field(
        25, ge=1, le=200, description="Denoising steps of a `standard` render."
    )
    diffusers_steps_pro: int = Field(40, ge=1, le=200, description="Denoising steps of a `pro` render.")
    diffusers_guidance: float = Field(
        7.0,
        ge=0,
        le=30,
        description="Classifier-free guidance scale (for `flux`, the distilled guidance, e.g. 3.5).",
    )


class WorkSettings(BaseModel):
    concurrency: int = Field(4, ge=1, le=256, description="Poses one worker process renders at once.")
    batch_size: int = Field(
        1,
        ge=1,
        le=64,
        description="Compatible poses an engine that renders batches (`diffusers`) takes in one pass, "
        "claimed together by one slot.",
    )
    lease_seconds: float = Field(
        30.0, gt=0, le=3600, description="How long a claim holds a pose before it expires."
    )
    max_attempts: int = Field(3, ge=1, le=20, description="Attempts before a pose is dead-lettered.")
    poll_interval_seconds: float = Field(
        0.5, gt=0, le=60, description="How often an idle worker looks for work without a wake-up hint."
    )
    reconcile_interval_seconds: float = Field(
        15.0, gt=0, le=3600, description="How often the reconciler re-queues expired leases and finalises."
    )
    backoff_base_seconds: float = Field(
        4.0, ge=0, le=3600, description="First retry delay of a transient failure; doubles per attempt."
    )
    backoff_max_seconds: float = Field(300.0, ge=0, le=86400, description="Longest retry delay.")
    shutdown_grace_seconds: float = Field(
        30.0,
        ge=0,
        le=3600,
        description=(
            "At SIGTERM, how long running poses get to finish; the rest are put back in the queue at "
            "once, their attempt not counted."
        ),
    )


class RealtimeSettings(BaseModel):
    auth_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="How long a new WebSocket may take to send its auth message."
    )
    queue_size: int = Field(
        256,
        ge=8,
        le=100_000,
        description="Events buffered per socket; a client that falls further behind is closed.",
    )
    fallback_poll_seconds: float = Field(
        0.5,
        gt=0,
        le=30,
        description="How often events are read from the database while Redis is unreachable.",
    )


class QualitySettings(BaseModel):
    """The pose check (docs/decisions.md "Pose check in the pipeline")."""

    pose_check: bool = Field(
        True,
        description=(
            "Check every finished pose image: detect the body keypoints (BlazePose, `vision` extra) and "
            "score them against the requested pose. Off, or without the extra: `poseCheck` is `skipped`."
        ),
    )
    min_pose_score: float = Field(
        0.5,
        ge=0,
        le=1,
        description=(
            "Pose score (0–1) a render needs to pass; below it, with a confident detection, an engine that "
            "does not draw the pose exactly re-renders with a new seed at no charge."
        ),
    )
    min_detector_confidence: float = Field(
        0.6,
        ge=0,
        le=1,
        description=(
            "Mean joint visibility (0–1) the detector must report for its verdict to count; below it the "
            "check is `inconclusive` and nothing is re-rendered."
        ),
    )
    max_rerenders: int = Field(
        1, ge=0, le=5, description="Free re-renders of a pose whose check failed, within one attempt."
    )
    on_failed_check: Literal["deliver_flagged", "refund"] = Field(
        "deliver_flagged",
        description=(
            "A pose still failing after its re-renders: `deliver_flagged` delivers the best-scoring image "
            "with `poseCheck` `failed` (charged); `refund` fails the pose (`POSE_CHECK_FAILED`) and "
            "refunds it."
        ),
    )
