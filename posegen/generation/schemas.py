"""The `/generate` request with every limit of DATA.md, and the generation views."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, field_validator, model_validator
from pydantic_core import PydanticCustomError

from posegen.generation import keywords
from posegen.generation.models import GenerationType
from posegen.imaging.presets import resolve_preset
from posegen.kit.pagination import Pagination
from posegen.kit.schemas import FieldError, Schema, UtcDateTime, WireEnum
from posegen.kit.text import LINE, PARAGRAPH, Line
from posegen.library.schemas import KeypointsOut
from posegen.vision import PoseCheck

MAX_POSES_PER_REQUEST = 500
MAX_PROMPT_WORDS = 100
Id = Annotated[str, StringConstraints(min_length=1, max_length=64), LINE]
BackgroundMode = Literal["ai_generate", "solid_color", "upload"]
Quality = Literal["draft", "standard", "pro"]


def _checked_text(value: str, what: str, *, pose_keyword: bool) -> str:
    text = keywords.normalise(value)
    rule = keywords.first_violation(text, needs_pose=pose_keyword)
    if rule is not None:
        # The rule is named (message and error type), the matched word is not: no echo of what was refused.
        raise PydanticCustomError(rule.value, f"{what} {rule.message}")
    return text


BackgroundPrompt = Annotated[str | None, Field(min_length=1, max_length=300), PARAGRAPH]
BackgroundColor = Annotated[str | None, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$"), LINE]


class BackgroundOptions(Schema):
    background_mode: BackgroundMode
    background_prompt: BackgroundPrompt = None
    background_color: BackgroundColor = None
    background_upload_id: Id | None = None

    @field_validator("background_prompt")
    @classmethod
    def _prompt_rules(cls, value: str | None) -> str | None:
        return None if value is None else _checked_text(value, "backgroundPrompt", pose_keyword=False)

    @model_validator(mode="after")
    def _mode_needs_its_field(self) -> Self:
        background_rules(
            self.background_mode, self.background_prompt, self.background_color, self.background_upload_id
        )
        return self


def background_rules(mode: str, prompt: str | None, color: str | None, upload_id: str | None) -> None:
    """Each background mode needs its own field; `FieldError` names the one missing."""
    if mode == "ai_generate" and not prompt:
        raise FieldError("backgroundPrompt", "backgroundPrompt is required for backgroundMode ai_generate")
    if mode == "solid_color" and not color:
        raise FieldError(
            "backgroundColor", "backgroundColor (#RRGGBB) is required for backgroundMode solid_color"
        )
    if mode == "upload" and not upload_id:
        raise FieldError("backgroundUploadId", "backgroundUploadId is required for backgroundMode upload")


# The request fields that only mean something with `useBackgroundChanger: true`.
BACKGROUND_FIELDS = ("background_mode", "background_prompt", "background_color", "background_upload_id")


class GenerateRequest(Schema):
    project_id: Id
    generation_type: Annotated[GenerationType, WireEnum]
    selected_pose_ids: Annotated[list[Id] | None, Field(min_length=1, max_length=50)] = None
    batch_size: Annotated[int, Field(ge=1, le=10)] = 4
    text_prompt: Annotated[str | None, Field(max_length=2000), PARAGRAPH] = None
    variation_count: Annotated[int, Field(ge=1, le=20)] = 4
    engine: Annotated[str | None, Field(min_length=1, max_length=32), LINE] = None
    quality: Quality = "standard"
    seed: Annotated[int | None, Field(ge=0, le=2**31 - 1)] = None
    use_background_changer: bool = False
    background_mode: BackgroundMode | None = None
    background_prompt: BackgroundPrompt = None
    background_color: BackgroundColor = None
    background_upload_id: Id | None = None
    output_formats: Annotated[list[Line], Field(max_length=10, default_factory=list)]

    @field_validator("selected_pose_ids")
    @classmethod
    def _unique_poses(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("selectedPoseIds must be unique")
        return value

    @field_validator("text_prompt")
    @classmethod
    def _prompt_rules(cls, value: str | None) -> str | None:
        if value is None:
            return None
        text = keywords.normalise(value)
        if not 3 <= len(text) <= 500:
            raise ValueError("textPrompt must be 3–500 characters")
        if len(text.split()) > MAX_PROMPT_WORDS:
            raise ValueError(f"textPrompt must be at most {MAX_PROMPT_WORDS} words")
        return _checked_text(text, "textPrompt", pose_keyword=True)

    @field_validator("background_prompt")
    @classmethod
    def _background_prompt_rules(cls, value: str | None) -> str | None:
        # Checked whenever it is sent, with or without the background changer: the same rules as
        # BackgroundOptions, reported against this field.
        return None if value is None else _checked_text(value, "backgroundPrompt", pose_keyword=False)

    @field_validator("output_formats")
    @classmethod
    def _known_formats(cls, value: list[str]) -> list[str]:
        resolved = []
        for key in value:
            preset = resolve_preset(key)
            if preset is None:
                raise ValueError(f"unknown output format {key!r}")
            resolved.append(preset.key)
        if len(set(resolved)) != len(resolved):
            raise ValueError("outputFormats must be unique")
        return resolved

    @model_validator(mode="after")
    def _type_rules(self) -> Self:
        if self.generation_type is GenerationType.GALLERY_REFERENCE:
            if not self.selected_pose_ids:
                raise FieldError("selectedPoseIds", "selectedPoseIds is required for GALLERY_REFERENCE")
            if self.text_prompt is not None:
                raise FieldError(
                    "textPrompt", "textPrompt belongs to TEXT_DESCRIPTION, not GALLERY_REFERENCE"
                )
            if len(self.selected_pose_ids) * self.batch_size > MAX_POSES_PER_REQUEST:
                raise FieldError(
                    "selectedPoseIds",
                    f"selectedPoseIds × batchSize must be at most {MAX_POSES_PER_REQUEST} poses per request",
                )
        else:
            if self.text_prompt is None:
                raise FieldError("textPrompt", "textPrompt is required for TEXT_DESCRIPTION")
            if self.selected_pose_ids is not None:
                raise FieldError(
                    "selectedPoseIds", "selectedPoseIds belong to GALLERY_REFERENCE, not TEXT_DESCRIPTION"
                )
        if not self.use_background_changer:
            # Options without the changer would be dropped silently while the request is charged.
            for name in BACKGROUND_FIELDS:
                if getattr(self, name) is not None:
                    alias = type(self).model_fields[name].alias or name
                    raise FieldError(alias, f"{alias} needs useBackgroundChanger: true")
            return self
        if self.background_mode is None:
            raise FieldError("backgroundMode", "backgroundMode is required when useBackgroundChanger is true")
        background_rules(
            self.background_mode, self.background_prompt, self.background_color, self.background_upload_id
        )
        return self

    @property
    def pose_count(self) -> int:
        if self.generation_type is GenerationType.GALLERY_REFERENCE:
            assert self.selected_pose_ids is not None
            return len(self.selected_pose_ids) * self.batch_size
        return self.variation_count


class GenerateAccepted(Schema):
    generation_id: str
    status: str
    total_poses_expected: int
    credit_charged: int
    queue_position: int
    estimated_completion_time: UtcDateTime | None
    message: str


class Quote(Schema):
    """What `POST /generate` would charge for the same body now, and the caller's balance."""

    poses_total: int
    credit_cost: int  # 0 while the unlimited tier covers the poses (they count on its quota)
    balance: int
    covered_by_quota: bool


class GeneratedPoseOut(Schema):
    id: str
    generation_id: str
    pose_id: str | None
    variation_key: str
    variation_index: int
    seed: int
    status: str
    prompt_used: str
    engine: str
    image_url: str | None
    thumbnail_url: str | None
    control_map_url: str | None
    exports: dict[str, str]
    width: int | None
    height: int | None
    background_changed: bool
    error_code: str | None
    error_message: str | None
    generation_time_ms: int | None
    pose_score: float | None = Field(
        description="Pose check: how closely the detected body follows the requested pose, 0–1; null "
        "when no score was computed (not checked, or no body found)."
    )
    pose_check: PoseCheck | None = Field(
        description="Pose check verdict: `passed`, `failed` (delivered flagged, or the pose failed with "
        "`POSE_CHECK_FAILED` and was refunded), `inconclusive` (no verdict) or `skipped` (the check did "
        "not run); null when the pose was not checked."
    )
    detected_keypoints: KeypointsOut | None = Field(
        description="The body keypoints the check detected (fractions of the image, with confidence)."
    )
    rerenders: int = Field(description="Free re-renders the pose check asked for.")
    created_at: UtcDateTime
    completed_at: UtcDateTime | None


class GenerationOut(Schema):
    id: str
    project_id: str
    generation_type: str
    text_prompt: str | None
    engine: str
    quality: str
    status: str
    total_poses: int
    success_count: int
    failed_count: int
    canceled_count: int
    credit_charged: int
    credit_refunded: int
    output_formats: list[str]
    use_background_changer: bool
    background_mode: str | None
    error_code: str | None
    error_message: str | None
    last_seq: int
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    completed_at: UtcDateTime | None


class Progress(Schema):
    percentage: float
    poses_completed: int
    poses_failed: int
    poses_total: int
    current_status: str
    queue_position: int
    estimated_time_remaining: float | None


class GenerationDetail(GenerationOut):
    poses: list[GeneratedPoseOut]


class GenerationResult(Schema):
    generation: GenerationDetail
    progress: Progress


class GenerationList(Schema):
    generations: list[GenerationOut]
    pagination: Pagination


class ResultsOut(Schema):
    results: list[GeneratedPoseOut]
    generation: GenerationOut


class GenerationSingle(Schema):
    generation: GenerationOut


class RetryAccepted(Schema):
    """`POST /generations/{id}/retry`: the failed and cancelled poses are queued again."""

    generation_id: str
    status: Literal["queued"]
    poses_requeued: int


class ExportRequest(Schema):
    format: Annotated[str, Field(min_length=1, max_length=40), LINE]


class PoseExport(Schema):
    """One export of a finished pose, rendered again."""

    format: str
    export_url: str


class BackgroundChangeAccepted(Schema):
    """`POST /poses/{id}/background`: the change is charged and queued."""

    pose_id: str
    background_change_id: str
    status: Literal["queued"]
    credit_charged: int
    credit_balance: int


class EngineServerOut(Schema):
    """One server of a remote engine (`comfyui`) and its health as this process last saw it."""

    url: str
    available: bool = Field(description="Its breaker lets a call through.")
    breaker: Literal["closed", "open", "half_open"]
    queue_remaining: int | None = Field(description="Prompts it held when last asked; null: never reached.")
    in_flight: int = Field(description="Renders of this process on it now.")


class EngineModelOut(Schema):
    """The model a local engine (`diffusers`) keeps loaded in this process."""

    base_model: str
    controlnet: str
    device: str
    dtype: str


class QualityTierOut(Schema):
    """What one quality gives on an engine."""

    quality: Quality
    size: int = Field(description="Side of the square original in pixels.")
    gives: str = Field(description="The output size and what else this engine does at this quality.")


class EngineOut(Schema):
    """An image engine this service offers (`Out`: `Engine` is the engines' protocol)."""

    name: str
    description: str
    available: bool
    supports_control_image: bool = Field(description="Whether the pose's control map conditions the render.")
    default_size: int
    qualities: list[Quality]
    sizes: dict[str, int] = Field(description="Output side in pixels per quality.")
    tiers: list[QualityTierOut] = Field(description="What each quality gives on this engine, cheapest first.")
    servers: list[EngineServerOut] | None = Field(
        default=None, description="Remote servers and their health (remote engines only)."
    )
    model: EngineModelOut | None = Field(default=None, description="The loaded model (local engines only).")


class EngineList(Schema):
    engines: list[EngineOut]


class CreditUsage(Schema):
    total_spent: int = Field(description="Credits spent, net of refunds.")
    last30_days: int
    average_per_generation: float


class TopUsedPose(Schema):
    pose_id: str
    pose_name: str
    usage_count: int
    preview_url: str | None


class UserStats(Schema):
    """The caller's totals (`GET /stats`)."""

    total_poses_generated: int = Field(description="Completed poses only.")
    total_projects: int
    recent_generations: int = Field(description="Generations of the last 7 days.")
    credit_usage: CreditUsage
    top_used_poses: list[TopUsedPose] = Field(
        description="The 5 library poses the caller's completed poses used most."
    )
