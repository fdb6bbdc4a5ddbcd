"""Admin bodies and views of accounts and the audit log."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import Field, StringConstraints, model_validator

from posegen.auth.models import Role
from posegen.auth.schemas import UserOut
from posegen.credits.ledger import MAX_AMOUNT
from posegen.credits.schemas import EntryOut
from posegen.kit.pagination import Pagination
from posegen.kit.schemas import FieldError, Schema, UtcDateTime, WireEnum
from posegen.kit.text import LINE


class UnlimitedTier(Schema):
    active: bool
    daily_quota: Annotated[int, Field(ge=0, le=100_000)]
    expires_at: UtcDateTime | None = None


class AdminUserOut(UserOut):
    is_active: bool
    balance: int
    unlimited: UnlimitedTier
    updated_at: UtcDateTime


class AdminUserList(Schema):
    users: list[AdminUserOut]
    pagination: Pagination


class AdminUserResult(Schema):
    user: AdminUserOut


class UserUpdate(Schema):
    role: Annotated[Role, WireEnum] | None = None
    is_active: bool | None = None
    unlimited: UnlimitedTier | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.role is None and self.is_active is None and self.unlimited is None:
            raise FieldError("role", "give at least one of role, isActive, unlimited")
        return self


class CreditAdjustment(Schema):
    amount: Annotated[
        int, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Credits to add (> 0) or take (< 0).")
    ]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), LINE]

    @model_validator(mode="after")
    def _not_zero(self) -> Self:
        if self.amount == 0:
            raise FieldError("amount", "amount must not be zero")
        return self


class CreditAdjustmentResult(Schema):
    balance: int
    entry: EntryOut


class AuditEntryOut(Schema):
    id: str
    actor_id: str | None
    user_id: str | None
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None
    created_at: UtcDateTime


class AuditLogOut(Schema):
    entries: list[AuditEntryOut]
    pagination: Pagination
