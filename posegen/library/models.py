"""Categories, poses with their tags, favorites, pose requests and votes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import column

from posegen.kit.ids import ID_LENGTH
from posegen.kit.orm import Base, UTCDateTime, created_at_column, id_column, updated_at_column

_ID = String(ID_LENGTH)


class PoseSource(StrEnum):
    CURATED = "curated"
    ADMIN = "admin"
    USER = "user"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class PoseCategory(Base):
    __tablename__ = "pose_categories"

    id: Mapped[str] = id_column()
    slug: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    parent_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("pose_categories.id", ondelete="RESTRICT"), nullable=True, index=True
    )
    icon: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    color: Mapped[str] = mapped_column(String(7), nullable=False, default="#64748B")
    display_order: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


# Deleted poses (`deleted_at`) leave the per-owner uniqueness: a deleted pose frees its name.
_PRIVATE = column("owner_id").is_not(None) & column("deleted_at").is_(None)
_LIBRARY = column("owner_id").is_(None)


class Pose(Base):
    __tablename__ = "poses"
    __table_args__ = (
        # Names are unique per category among library poses and per owner among private ones:
        # two users may both call their pose "My stance".
        Index(
            "uq_poses_library_category_name",
            "category_id",
            "name",
            unique=True,
            sqlite_where=_LIBRARY,
            postgresql_where=_LIBRARY,
        ),
        Index(
            "uq_poses_owner_name",
            "owner_id",
            "name",
            unique=True,
            sqlite_where=_PRIVATE,
            postgresql_where=_PRIVATE,
        ),
        Index("ix_poses_owner_created", "owner_id", "created_at"),
        CheckConstraint("difficulty IN ('beginner', 'intermediate', 'advanced')", name="difficulty"),
        CheckConstraint("gender_suitability IN ('male', 'female', 'unisex')", name="gender_suitability"),
        CheckConstraint("framing IN ('full_body', 'upper_body', 'portrait')", name="framing"),
        CheckConstraint("source IN ('curated', 'admin', 'user')", name="source"),
        CheckConstraint("usage_count >= 0 AND favorite_count >= 0", name="counts_not_negative"),
        Index("ix_poses_public_popularity", "is_public", "popularity_score"),
    )

    id: Mapped[str] = id_column()
    category_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("pose_categories.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    slug: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    difficulty: Mapped[str] = mapped_column(String(16), nullable=False)
    gender_suitability: Mapped[str] = mapped_column(String(8), nullable=False)
    framing: Mapped[str] = mapped_column(String(16), nullable=False)
    # {"format": "openpose-18", "points": [[x, y, c] × 18], "depth": [z × 18]}
    keypoints: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    source: Mapped[str] = mapped_column(String(8), nullable=False, default=PoseSource.CURATED.value)
    # Set while the pose is a user's private pose (source "user"); cleared when an admin promotes it.
    owner_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    # Who made a user pose, kept after promotion (the owner is not).
    author_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    promoted_by: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    is_public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_featured: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_premium: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    usage_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    favorite_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    popularity_score: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    # Case-folded name, description and tags: one column searched with an
    # escaped LIKE, identical on both databases (SQLite's lower() is ASCII-only).
    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Hash of everything the seeded assets depend on; re-seeding skips unchanged poses.
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    preview_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    thumbnail_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    control_map_key: Mapped[str | None] = mapped_column(String(512), nullable=True)
    # Set when its owner deletes a private pose that past generations or pose requests still
    # reference: hidden from every read (`repository.visible_to`), kept for their history.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class PoseTag(Base):
    __tablename__ = "pose_tags"

    pose_id: Mapped[str] = mapped_column(_ID, ForeignKey("poses.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class PoseFavorite(Base):
    __tablename__ = "pose_favorites"

    user_id: Mapped[str] = mapped_column(_ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    pose_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("poses.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = created_at_column()


_STATUS_LIST = ", ".join(f"'{status.value}'" for status in RequestStatus)


class PoseRequest(Base):
    __tablename__ = "pose_requests"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status"),
        CheckConstraint("votes_count >= 0", name="votes_count_not_negative"),
        Index("ix_pose_requests_status_votes", "status", "votes_count"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    pose_name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str] = mapped_column(String(1000), nullable=False)
    category_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("pose_categories.id", ondelete="SET NULL"), nullable=True
    )
    use_case: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reference_upload_id: Mapped[str | None] = mapped_column(_ID, nullable=True)
    # {"format": "openpose-18", "points": [[x, y, c] × 18]} when the requester sends a pose
    # (typically detected in a photo with `POST /poses/from-photo`).
    keypoints: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=RequestStatus.PENDING.value)
    admin_notes: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    completed_pose_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("poses.id", ondelete="SET NULL"), nullable=True
    )
    votes_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    reviewed_by: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()


class PoseRequestVote(Base):
    __tablename__ = "pose_request_votes"

    request_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("pose_requests.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(_ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
