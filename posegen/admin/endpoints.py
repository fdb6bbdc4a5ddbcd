"""`/api/admin`: the admin check lives on the router, never inside a handler."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from posegen.admin.schemas import AdminUserList, AdminUserOut
from posegen.auth import repository as users
from posegen.auth.dependencies import require_admin
from posegen.db import Session
from posegen.kit.pagination import PageRequest, page_params

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(require_admin)])


@router.get("/users")
async def list_users(
    session: Session,
    page: Annotated[PageRequest, Depends(page_params(20))],
    search: Annotated[str | None, Query(max_length=100, description="Literal text in email or name.")] = None,
) -> AdminUserList:
    """Accounts, newest first, optionally filtered by literal text in email or name."""
    rows, total = await users.search(session, search.strip() if search else None, page)
    return AdminUserList(
        users=[AdminUserOut.model_validate(user) for user in rows], pagination=page.result(total)
    )
