"""generations, generated_poses (the unit of work and its result) and generation_events."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from posegen.kit.ids import ID_LENGTH
from posegen.kit.orm import Base, UTCDateTime, created_at_column, id_column, updated_at_column
from posegen.kit.time import utcnow
from posegen.vision.verdict import PoseCheck

_ID = String(ID_LENGTH)


class GenerationType(StrEnum):
    GALLERY_REFERENCE = "GALLERY_REFERENCE"
    TEXT_DESCRIPTION = "TEXT_DESCRIPTION"


class GenerationStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL_GENERATION = frozenset(
    {GenerationStatus.COMPLETED, GenerationStatus.PARTIAL, GenerationStatus.FAILED, GenerationStatus.CANCELED}
)


class PoseStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL_POSE = frozenset({PoseStatus.COMPLETED, PoseStatus.FAILED, PoseStatus.CANCELED})


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        UniqueConstraint("user_id", "idempotency_key"),
        CheckConstraint(f"status IN ({_values(GenerationStatus)})", name="status"),
        CheckConstraint(f"generation_type IN ({_values(GenerationType)})", name="generation_type"),
        CheckConstraint("credit_refunded <= credit_charged", name="refund_within_charge"),
        Index("ix_generations_user_id_created_at", "user_id", "created_at"),
        Index("ix_generations_project_id_created_at", "project_id", "created_at"),
        Index("ix_generations_status", "status"),
        # Admin metrics and monitoring select generations by submission time.
        Index("ix_generations_created_at", "created_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(_ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    project_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )
    generation_type: Mapped[str] = mapped_column(String(20), nullable=False)
    text_prompt: Mapped[str | None] = mapped_column(Text, nullable=True)
    batch_size: Mapped[int] = mapped_column(Integer, nullable=False)
    variation_count: Mapped[int] = mapped_column(Integer, nullable=False)
    total_expected: Mapped[int] = mapped_column(Integer, nullable=False)
    engine: Mapped[str] = mapped_column(String(32), nullable=False)
    quality: Mapped[str] = mapped_column(String(16), nullable=False)
    base_seed: Mapped[int] = mapped_column(Integer, nullable=False)
    use_background_changer: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    background_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    background_prompt: Mapped[str | None] = mapped_column(String(300), nullable=True)
    background_color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    background_upload_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("uploads.id", ondelete="SET NULL"), nullable=True
    )
    export_formats: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=GenerationStatus.QUEUED.value)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    credit_charged: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    credit_refunded: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Set when the unlimited tier paid: the UTC day whose quota the poses used.
    quota_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    poses_completed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    poses_failed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    poses_canceled: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The 202 body, replayed as it was for a repeated Idempotency-Key.
    accepted_response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    last_seq: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = updated_at_column()


class GeneratedPose(Base):
    __tablename__ = "generated_poses"
    __table_args__ = (
        UniqueConstraint("generation_id", "variation_key"),
        CheckConstraint(f"status IN ({_values(PoseStatus)})", name="status"),
        CheckConstraint("attempts >= 0 AND cost >= 0", name="counts_not_negative"),
        CheckConstraint(f"pose_check IS NULL OR pose_check IN ({_values(PoseCheck)})", name="pose_check"),
        # The claim query: queued rows by availability, running rows by lease expiry.
        Index("ix_generated_poses_status_available_at", "status", "available_at"),
        Index("ix_generated_poses_status_lease_expires_at", "status", "lease_expires_at"),
        Index("ix_generated_poses_generation_id_status", "generation_id", "status"),
        Index("ix_generated_poses_user_id_status", "user_id", "status"),
        # Metrics: completed or failed poses by submission time; the oldest queued pose.
        Index("ix_generated_poses_status_created_at", "status", "created_at"),
    )

    id: Mapped[str] = id_column()
    generation_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("generations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(_ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    pose_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("poses.id", ondelete="SET NULL"), nullable=True
    )
    variation_key: Mapped[str] = mapped_column(String(64), nullable=False)
    variation_index: Mapped[int] = mapped_column(Integer, nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False)
    prompt_used: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Keypoints to render (copied at submission, so editing the library later changes no queued work).
    keypoints: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    engine: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PoseStatus.QUEUED.value)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # Where a remote engine holds this row's work (engines.base.RemoteJob), committed before the
    # work is submitted: the next claim after a crash re-attaches instead of submitting again.
    remote_server: Mapped[str | None] = mapped_column(String(512), nullable=True)
    remote_job_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    cost: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    refunded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Raised by each retry of a failed pose: a retried pose is charged again, so its
    # refund needs a reference of its own.
    charge_round: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Whether this completed pose was added to its library pose's usage (once, when its generation
    # ends: `repository.count_completed_uses`).
    usage_counted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    image_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    control_map_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    export_keys: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    # Figure box in output pixels (left, top, right, bottom): exports crop around the person.
    figure_box: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    height: Mapped[int | None] = mapped_column(Integer, nullable=True)
    background_changed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    generation_time_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The pose check of the delivered image (`work/pose_check.py`): its score (0–1; null when none
    # was computed), verdict (`PoseCheck`), the detected OpenPose-18 keypoints ({"format", "points"},
    # fractions of the image) and how many free re-renders it took.
    pose_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    pose_check: Mapped[str | None] = mapped_column(String(16), nullable=True)
    detected_keypoints: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    rerenders: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = created_at_column()
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = updated_at_column()


class GenerationEvent(Base):
    __tablename__ = "generation_events"
    __table_args__ = (
        UniqueConstraint("generation_id", "seq"),
        Index("ix_generation_events_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    generation_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("generations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(_ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = created_at_column()


class BackgroundChange(Base):
    """A paid background change of one finished pose: its own unit of work and charge."""

    __tablename__ = "background_changes"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(PoseStatus)})", name="status"),
        Index("ix_background_changes_status_available_at", "status", "available_at"),
        Index("ix_background_changes_pose_id", "pose_id"),
    )

    id: Mapped[str] = id_column()
    pose_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("generated_poses.id", ondelete="CASCADE"), nullable=False
    )
    generation_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("generations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[str] = mapped_column(_ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    prompt: Mapped[str | None] = mapped_column(String(300), nullable=True)
    color: Mapped[str | None] = mapped_column(String(7), nullable=True)
    upload_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("uploads.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PoseStatus.QUEUED.value)
    cost: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    quota_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    refunded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=3)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False, default=utcnow)
    # Where a remote engine holds this row's work (engines.base.RemoteJob), committed before the
    # work is submitted: the next claim after a crash re-attaches instead of submitting again.
    remote_server: Mapped[str | None] = mapped_column(String(512), nullable=True)
    remote_job_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_message: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime] = updated_at_column()
