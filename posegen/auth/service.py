"""Account rules: registration, login, logout, roles, bootstrap admin."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth import repository
from posegen.auth.models import Role, User
from posegen.auth.passwords import Passwords
from posegen.errors import Conflict, Forbidden, NotFound, Unauthorized

log = structlog.get_logger(__name__)

BAD_LOGIN = "Invalid email or password"

# Runs inside the registration's transaction for every self-registered account, with its id: the
# credits' sign-up bonus (credits/bonus.py), handed over by posegen/services.py, so that this
# package imports nothing of credits (credits builds on accounts, not the other way round).
AccountOpened = Callable[[AsyncSession, str], Awaitable[None]]


async def create_user(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    name: str,
    role: Role = Role.USER,
) -> User:
    """A new account; `Conflict` when the email (in any case) is taken.

    The password is hashed before the first statement, so Argon2 never runs
    inside the write transaction (which begins at that statement)."""
    email = email.strip().lower()
    password_hash = await passwords.hash(password)
    if await repository.get_by_email(session, email) is not None:
        raise Conflict("An account with this email already exists", field="email")
    user = User(email=email, password_hash=password_hash, name=name, role=role.value)
    try:
        # A savepoint keeps the session usable if a concurrent registration won
        # the race for the same email. The user is added inside it, since
        # opening a savepoint first flushes whatever is pending.
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("An account with this email already exists", field="email") from exc
    return user


async def register(
    session: AsyncSession,
    passwords: Passwords,
    *,
    email: str,
    password: str,
    name: str,
    opened: AccountOpened,
) -> User:
    """A self-registered account; `opened` runs in the same transaction (the sign-up bonus: a
    `bonus` entry under a per-account idempotency key, so an account gets it once however often
    the unit of work is re-run)."""
    user = await create_user(session, passwords, email=email, password=password, name=name)
    await opened(session, user.id)
    return user


async def find_account(session: AsyncSession, email: str) -> User | None:
    """The account a login names, if any (read only: a login writes nothing unless it re-hashes)."""
    return await repository.get_by_email(session, email.strip())


async def check_password(passwords: Passwords, user: User | None, password: str) -> tuple[User, str | None]:
    """The account these credentials open, and a new hash when the stored one uses old parameters.

    Argon2 work: call it with no transaction open. One message for every
    failure before the password check, and the same work for unknown emails.
    """
    ok, new_hash = await passwords.verify(password, user.password_hash if user else None)
    if user is None or not ok:
        raise Unauthorized(BAD_LOGIN)
    if not user.is_active:
        raise Forbidden("This account is disabled")
    return user, new_hash


async def store_rehash(session: AsyncSession, user: User, new_hash: str) -> None:
    """Replace a hash with its re-hash, unless the password changed since it was read."""
    await repository.replace_password_hash(session, user.id, user.password_hash, new_hash)


async def logout(session: AsyncSession, user: User) -> None:
    await repository.bump_token_version(session, user.id)


async def set_role(session: AsyncSession, email: str, role: Role) -> User:
    user = await repository.get_by_email(session, email)
    if user is None:
        raise NotFound(f"No account for {email}")
    user.role = role.value
    await session.flush()
    return user


async def replace_password(session: AsyncSession, user: User, password_hash: str) -> None:
    """Replace the password (hashed by the caller, outside the transaction) and revoke every token
    issued with the old one."""
    user.password_hash = password_hash
    await repository.bump_token_version(session, user.id)
    await session.flush()


async def ensure_bootstrap_admin(
    session: AsyncSession, passwords: Passwords, *, email: str, password: str
) -> None:
    """Create the configured admin if no account has that email; never touch an existing one."""
    if await repository.get_by_email(session, email) is not None:
        return
    await create_user(
        session, passwords, email=email, password=password, name="Administrator", role=Role.ADMIN
    )
    log.info("bootstrap_admin_created")


def random_password() -> str:
    """A password for generated accounts (demo user): 20 URL-safe characters."""
    return secrets.token_urlsafe(15)
