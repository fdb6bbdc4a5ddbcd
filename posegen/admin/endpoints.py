"""`/api/admin`: the admin check lives on the router, never inside a handler."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query

from posegen.admin import service
from posegen.admin.schemas import (
    AdminUserList,
    AdminUserResult,
    AuditEntryOut,
    AuditLogOut,
    CreditAdjustment,
    CreditAdjustmentResult,
    UserUpdate,
)
from posegen.audit import service as audit
from posegen.auth import repository as users
from posegen.auth.dependencies import AdminUser, require_admin
from posegen.credits.schemas import EntryOut
from posegen.db import Session, UnitOfWorkRoute
from posegen.kit.pagination import PageRequest, page_params
from posegen.openapi import errors

router = APIRouter(
    prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)], route_class=UnitOfWorkRoute
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Repeat a request safely: the same key returns the first result.",
    ),
]


@router.get("/users")
async def list_users(
    session: Session,
    page: Annotated[PageRequest, Depends(page_params(20))],
    search: Annotated[str | None, Query(max_length=100, description="Literal text in email or name.")] = None,
) -> AdminUserList:
    """Accounts, newest first, optionally filtered by literal text in email or name."""
    rows, total = await users.search(session, search.strip() if search else None, page)
    return AdminUserList(users=await service.views(session, rows), pagination=page.result(total))


@router.post("/users/{user_id}/credits", responses=errors(402, 409))
async def adjust_credits(
    user_id: str,
    body: CreditAdjustment,
    admin: AdminUser,
    session: Session,
    idempotency_key: IdempotencyKey = None,
) -> CreditAdjustmentResult:
    """Grant (amount > 0) or take (amount < 0) credits. Taking more than the balance is 402."""
    entry = await service.adjust_credits(session, admin, user_id, body, idempotency_key)
    return CreditAdjustmentResult(balance=entry.balance_after, entry=EntryOut.of(entry))


@router.patch("/users/{user_id}", responses=errors(409))
async def update_user(user_id: str, body: UserUpdate, admin: AdminUser, session: Session) -> AdminUserResult:
    """Change an account's role, active flag or unlimited tier."""
    user = await service.update_user(session, admin, user_id, body)
    return AdminUserResult(user=await service.view(session, user))


@router.get("/audit-log")
async def audit_log(
    session: Session,
    page: Annotated[PageRequest, Depends(page_params(50))],
    user_id: Annotated[
        str | None, Query(alias="userId", max_length=64, description="Entries by or about this account.")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=64, description="Exact action, e.g. `credits.refund`.")
    ] = None,
) -> AuditLogOut:
    """The audit log, newest first."""
    rows, total = await audit.search(session, user_id=user_id, action=action, page=page)
    return AuditLogOut(
        entries=[AuditEntryOut.model_validate(row) for row in rows], pagination=page.result(total)
    )
