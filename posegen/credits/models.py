"""credit_accounts, credit_entries, unlimited_usage."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from posegen.kit.ids import ID_LENGTH
from posegen.kit.orm import Base, created_at_column, id_column, updated_at_column


class EntryKind(StrEnum):
    PURCHASE = "purchase"
    BONUS = "bonus"
    USAGE = "usage"
    REFUND = "refund"
    ADMIN_GRANT = "admin_grant"
    ADMIN_DEBIT = "admin_debit"


CREDIT_KINDS = frozenset({EntryKind.PURCHASE, EntryKind.BONUS, EntryKind.REFUND, EntryKind.ADMIN_GRANT})
DEBIT_KINDS = frozenset({EntryKind.USAGE, EntryKind.ADMIN_DEBIT})
_KIND_LIST = ", ".join(f"'{kind.value}'" for kind in EntryKind)


class CreditAccount(Base):
    __tablename__ = "credit_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    balance: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_at: Mapped[datetime] = updated_at_column()


class CreditEntry(Base):
    """One balance movement. Rows are only ever inserted."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        CheckConstraint(f"kind IN ({_KIND_LIST})", name="kind"),
        UniqueConstraint("user_id", "idempotency_key"),
        # A reference is refunded at most once, whatever races to refund it.
        Index(
            "uq_credit_entries_refund_reference",
            "kind",
            "reference_type",
            "reference_id",
            unique=True,
            postgresql_where=text("kind = 'refund'"),
            sqlite_where=text("kind = 'refund'"),
        ),
        Index("ix_credit_entries_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    balance_after: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(200), nullable=False)
    reference_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reference_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = created_at_column()


class UnlimitedUsage(Base):
    """Poses used by an unlimited-tier account on one UTC day; a new day is a new row."""

    __tablename__ = "unlimited_usage"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
