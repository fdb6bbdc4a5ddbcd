"""The users table."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from posegen.kit.orm import Base, UTCDateTime, created_at_column, id_column, updated_at_column

DEFAULT_UNLIMITED_DAILY_QUOTA = 100


class Role(StrEnum):
    USER = "user"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('user', 'admin')", name="role"),
        CheckConstraint("token_version >= 0", name="token_version"),
        CheckConstraint("unlimited_daily_quota >= 0", name="unlimited_daily_quota"),
    )

    id: Mapped[str] = id_column()
    # Stored lower-case, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default=Role.USER.value)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Raised by logout: tokens carrying an older version are refused.
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    unlimited_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    unlimited_daily_quota: Mapped[int] = mapped_column(
        Integer, nullable=False, default=DEFAULT_UNLIMITED_DAILY_QUOTA
    )
    unlimited_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value
