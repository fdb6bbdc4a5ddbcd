"""Credit bodies and views."""

from __future__ import annotations

from posegen.credits.models import CreditEntry
from posegen.kit.pagination import Pagination
from posegen.kit.schemas import Schema, UtcDateTime


class UnlimitedStatus(Schema):
    active: bool
    daily_quota: int
    used_today: int
    expires_at: UtcDateTime | None


class BalanceOut(Schema):
    balance: int
    unlimited: UnlimitedStatus | None


class EntryOut(Schema):
    id: str
    amount: int
    balance_after: int
    kind: str
    reason: str
    reference_type: str | None
    reference_id: str | None
    created_at: UtcDateTime

    @classmethod
    def of(cls, entry: CreditEntry) -> EntryOut:
        return cls.model_validate(entry)


class HistoryOut(Schema):
    entries: list[EntryOut]
    pagination: Pagination
