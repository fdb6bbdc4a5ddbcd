"""SQL for users."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth.models import User
from posegen.kit.pagination import PageRequest, escape_like, paginate


async def get(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email.lower()))
    return result.scalar_one_or_none()


async def bump_token_version(session: AsyncSession, user_id: str) -> None:
    """Revoke every token issued so far: one atomic increment, no read-modify-write."""
    await session.execute(update(User).where(User.id == user_id).values(token_version=User.token_version + 1))


async def replace_password_hash(session: AsyncSession, user_id: str, old_hash: str, new_hash: str) -> bool:
    """Store `new_hash` if the stored hash is still `old_hash` (compare-and-set); whether it was."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.password_hash == old_hash)
        .values(password_hash=new_hash)
        .returning(User.id)
    )
    return result.first() is not None


async def search(session: AsyncSession, text: str | None, page: PageRequest) -> tuple[list[User], int]:
    """Users whose email or name contains `text` literally, newest first."""
    query = select(User)
    if text:
        pattern = f"%{escape_like(text.lower())}%"
        query = query.where(
            or_(
                User.email.like(pattern, escape="\\"),
                func.lower(User.name).like(pattern, escape="\\"),
            )
        )
    return await paginate(session, query, page, User.created_at.desc(), User.id.desc())
