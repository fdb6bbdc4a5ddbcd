"""Writing and reading the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.audit.models import AuditEntry
from posegen.kit.context import request_id_var
from posegen.kit.pagination import PageRequest, paginate


async def record(
    session: AsyncSession,
    *,
    action: str,
    target_type: str,
    target_id: str,
    actor_id: str | None,
    user_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one audit row to the caller's transaction (it commits or rolls back with the change)."""
    entry = AuditEntry(
        actor_id=actor_id,
        user_id=user_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        request_id=request_id_var.get(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def record_many(
    session: AsyncSession,
    *,
    action: str,
    target_type: str,
    actor_id: str | None,
    user_id: str | None,
    changes: Sequence[tuple[str, dict[str, Any] | None, dict[str, Any] | None]],
) -> None:
    """Add one audit row per `(target_id, before, after)` of a set-based change, inserted together."""
    request_id = request_id_var.get()
    session.add_all(
        AuditEntry(
            actor_id=actor_id,
            user_id=user_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=before,
            after=after,
            request_id=request_id,
        )
        for target_id, before, after in changes
    )
    await session.flush()


async def search(
    session: AsyncSession, *, user_id: str | None, action: str | None, page: PageRequest
) -> tuple[list[AuditEntry], int]:
    """Entries about or by `user_id`, of `action`, newest first."""
    query = select(AuditEntry)
    if user_id:
        query = query.where(or_(AuditEntry.user_id == user_id, AuditEntry.actor_id == user_id))
    if action:
        query = query.where(AuditEntry.action == action)
    return await paginate(session, query, page, AuditEntry.created_at.desc(), AuditEntry.id.desc())
