"""workers (heartbeats) and queue_state (admin pause, last recovery run)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from posegen.kit.orm import Base, UTCDateTime, created_at_column, updated_at_column


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), nullable=False)
    pid: Mapped[int] = mapped_column(Integer, nullable=False)
    concurrency: Mapped[int] = mapped_column(Integer, nullable=False)
    busy_slots: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[datetime] = created_at_column()
    last_heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class QueueState(Base):
    """One row (id 1): whether claims are paused, and what the last recovery run did."""

    __tablename__ = "queue_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    last_recovery_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_recovered: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_dead_lettered: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = updated_at_column()
