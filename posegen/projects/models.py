"""Projects and the image uploads they (and generations) refer to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from posegen.kit.ids import ID_LENGTH
from posegen.kit.orm import Base, created_at_column, id_column, updated_at_column
from posegen.storage.base import MAX_KEY_LENGTH

_ID = String(ID_LENGTH)


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


_STATUS_LIST = ", ".join(f"'{status.value}'" for status in ProjectStatus)


class Upload(Base):
    """An image a user uploaded, already re-encoded without metadata; private to its owner."""

    __tablename__ = "uploads"
    __table_args__ = (CheckConstraint("width > 0 AND height > 0 AND bytes > 0", name="sizes_positive"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        _ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    storage_key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), nullable=False)
    mime: Mapped[str] = mapped_column(String(32), nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    # Size of the stored (re-encoded) file, not of what the client sent.
    size_bytes: Mapped[int] = mapped_column("bytes", Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = created_at_column()


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_LIST})", name="status"),
        Index("ix_projects_user_id_status", "user_id", "status"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(_ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Only the keys the owner set, snake_case: {"gender": "female", "age_range": "30s", …}.
    avatar_attributes: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    avatar_upload_id: Mapped[str | None] = mapped_column(
        _ID, ForeignKey("uploads.id", ondelete="SET NULL"), nullable=True
    )
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=ProjectStatus.ACTIVE.value)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
