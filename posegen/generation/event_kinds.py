"""Every kind of generation event, one model each, and the one registry they are written through.

A model is the `data` of its kind as it is stored and published; its field
names are snake_case in Python and camelCase on the wire. `docs/events.md` is
generated from this module (`python -m posegen.generation.event_docs`), so the
docstrings and field descriptions here are the documentation clients read.

Nothing here touches the database or the work pipeline, so any package can
build events without an import cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from posegen.engines.base import ErrorCode
from posegen.vision.verdict import PoseCheck

Count = Annotated[int, Field(ge=0)]
# Error codes arrive as the enum's string value from most producers; strict mode alone would
# accept only the enum member.
Code = Annotated[ErrorCode, Field(strict=False, description="Why it failed (an error code).")]
# The verdict arrives as its string value, like the error codes.
PoseCheckVerdict = Annotated[PoseCheck, Field(strict=False)]


class UnknownEventKind(ValueError):
    """An event kind that is not in the registry: nothing may write it."""


class EventData(BaseModel):
    """The `data` of one event kind; subclasses set `kind` and say when it is sent."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=True
    )

    kind: ClassVar[str]
    # Live-only kinds are published but never stored, so they have no seq and are not replayed.
    stored: ClassVar[bool] = True
    # Optional fields that are left out of `data` when unset (rather than sent as null).
    omitted_when_none: ClassVar[frozenset[str]] = frozenset()

    def data(self) -> dict[str, Any]:
        """The payload as it is stored and sent: camelCase keys, JSON values."""
        absent = {name for name in self.omitted_when_none if getattr(self, name) is None}
        return self.model_dump(mode="json", by_alias=True, exclude=absent)


class GenerationQueued(EventData):
    """A generation was accepted and charged: the first event of every generation."""

    kind = "generation.queued"

    total: Count = Field(description="Poses requested.")
    credit_charged: Count = Field(description="Credits charged by this submission.")


class GenerationRequeued(EventData):
    """Failed or cancelled poses were queued again (the user's retry, or an admin's requeue of a dead
    letter). A finished generation is reopened: it is `queued` again, and its next final event
    carries this `round`, so a client tells it from the final event it saw before."""

    kind = "generation.requeued"

    round: Count = Field(description="Which requeue of this generation this is: 1, 2, …")
    status: str = Field(description="The generation's status after the requeue.")
    retried: Count = Field(description="Poses put back in the queue.")
    pose_ids: list[str] = Field(description="The generated poses put back in the queue.")
    credit_charged: Count = Field(description="Credits charged for them (0 for an admin's requeue).")


class GenerationStarted(EventData):
    """A worker claimed the generation's first pose; the generation is now processing."""

    kind = "generation.started"


class DetectedKeypoints(BaseModel):
    """Body keypoints the pose check detected in an image."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["openpose-18"] = Field(description="Keypoint layout: OpenPose's 18 body points.")
    points: list[list[float]] = Field(
        description="18 `[x, y, confidence]`: x and y as fractions of the image's width and height, "
        "confidence the detector's visibility of the joint (0–1)."
    )


class PoseCompleted(EventData):
    """A pose finished rendering and its files are stored."""

    kind = "pose.completed"

    pose_id: str = Field(description="The generated pose.")
    variation_key: str = Field(description="Which variation it is (`<poseId>-v<n>`).")
    thumbnail_key: str | None = Field(
        description="Stored as the thumbnail's storage key; clients receive `thumbnailUrl`, "
        "a signed URL (null when there is no thumbnail), instead."
    )
    pose_score: float | None = Field(
        None,
        ge=0,
        le=1,
        description="How closely the detected body follows the requested pose, 0–1 (null when no score "
        "was computed: the check did not run, or found no body to compare).",
    )
    pose_check: PoseCheckVerdict | None = Field(
        None,
        description="The pose check's verdict: `passed`, `failed` (delivered flagged), `inconclusive` "
        "(no verdict) or `skipped` (the check did not run); null for events from before the check.",
    )
    detected_keypoints: DetectedKeypoints | None = Field(
        None, description="The body keypoints the check detected; null when it found none."
    )
    rerenders: Count = Field(0, description="Free re-renders the check asked for before this image.")


class PoseFailed(EventData):
    """A pose failed for good or was cancelled (`errorCode` `CANCELED`); its credits were refunded."""

    kind = "pose.failed"

    pose_id: str = Field(description="The generated pose.")
    variation_key: str = Field(description="Which variation it is (`<poseId>-v<n>`).")
    error_code: Code
    refunded: Count = Field(description="Credits given back for this pose.")


class GenerationProgress(EventData):
    """A pose reached a final state and others are still to come."""

    kind = "generation.progress"

    completed: Count = Field(description="Poses completed so far.")
    failed: Count = Field(description="Poses failed so far.")
    total: Count = Field(description="Poses expected in all.")
    percentage: float = Field(
        ge=0, le=100, description="Share of poses completed, failed or cancelled, 0–100."
    )
    estimated_time_remaining: float | None = Field(
        ge=0, description="Seconds left, when known; null otherwise."
    )


class GenerationFinished(EventData):
    """The shape shared by the four final events; exactly one of them ends each round of a
    generation (a requeue starts a new round)."""

    omitted_when_none = frozenset({"round"})

    completed: Count = Field(description="Poses completed.")
    failed: Count = Field(description="Poses failed.")
    credit_refunded: Count = Field(description="Credits refunded to the user for this generation so far.")
    round: Count | None = Field(
        None, description="After a requeue: the round this event ends (left out before any requeue)."
    )


class GenerationCompleted(GenerationFinished):
    """Final event: every pose completed."""

    kind = "generation.completed"


class GenerationPartial(GenerationFinished):
    """Final event: some poses completed and the others failed."""

    kind = "generation.partial"


class GenerationFailed(GenerationFinished):
    """Final event: no pose completed."""

    kind = "generation.failed"


class GenerationCanceled(GenerationFinished):
    """Final event: the user cancelled; poses not yet rendered were refunded."""

    kind = "generation.canceled"


class BackgroundCompleted(EventData):
    """A background change of a generated pose finished; the pose's image, thumbnail and exports
    were replaced."""

    kind = "background.completed"

    pose_id: str = Field(description="The generated pose whose background changed.")
    thumbnail_key: str = Field(
        description="Stored as the new thumbnail's storage key; clients receive `thumbnailUrl`, "
        "a signed URL, instead."
    )
    generation_time_ms: Count = Field(description="How long the change took, in milliseconds.")


class BackgroundFailed(EventData):
    """A background change failed for good or was dead-lettered; its credits were refunded and the
    pose keeps its previous image."""

    kind = "background.failed"

    pose_id: str = Field(description="The generated pose.")
    error_code: Code
    refunded: Count = Field(description="Credits given back for the change.")


class PoseProgress(EventData):
    """A running render finished a step (engines that report steps); at most two per second per
    pose."""

    kind = "pose.progress"
    stored = False

    pose_id: str = Field(description="The generated pose.")
    step: Count = Field(description="Steps done.")
    steps: Annotated[int, Field(ge=1, description="Steps in all.")]
    percentage: float = Field(ge=0, le=100, description="`step / steps` as 0–100.")


EVENT_MODELS: tuple[type[EventData], ...] = (
    GenerationQueued,
    GenerationRequeued,
    GenerationStarted,
    PoseProgress,
    PoseCompleted,
    PoseFailed,
    GenerationProgress,
    GenerationCompleted,
    GenerationPartial,
    GenerationFailed,
    GenerationCanceled,
    BackgroundCompleted,
    BackgroundFailed,
)
EVENT_KINDS: Mapping[str, type[EventData]] = {model.kind: model for model in EVENT_MODELS}
FINAL_KINDS = frozenset(model.kind for model in EVENT_MODELS if issubclass(model, GenerationFinished))


def parse(kind: str, data: Mapping[str, Any]) -> EventData:
    """The typed event of a kind string and its payload; raises `UnknownEventKind` for a kind the
    registry does not have and pydantic's `ValidationError` for a payload that does not fit."""
    model = EVENT_KINDS.get(kind)
    if model is None:
        raise UnknownEventKind(f"unknown event kind {kind!r}")
    return model.model_validate(data)
