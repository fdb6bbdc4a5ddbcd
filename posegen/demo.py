"""The demo account of the embedded profile (`posegen users demo`, run by `make run`).

Its password is generated once and kept in `<data dir>/demo-password` (mode 0600), so every
`make run` prints the same credentials and tokens issued before a restart keep working. It changes
only when asked (`--rotate`), when the file is missing, or when it no longer opens the account
(the password was changed some other way); a change revokes the account's tokens.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from posegen.auth import repository
from posegen.auth import service as accounts
from posegen.auth.passwords import Passwords
from posegen.credits import ledger
from posegen.credits.models import EntryKind
from posegen.db import Database
from posegen.errors import NotFound

DEMO_EMAIL = "demo@posegen.local"
DEMO_CREDITS = 1000
PASSWORD_FILE = "demo-password"  # noqa: S105 - a file name, not a password


class DemoPassword(StrEnum):
    CREATED = "created"  # a new account
    KEPT = "kept"  # the password of the last run, unchanged
    ROTATED = "rotated"  # a new password; earlier tokens are revoked


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    state: DemoPassword


def read_kept(path: Path) -> str | None:
    try:
        value = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return value or None


def keep(path: Path, password: str) -> None:
    """Write the password readable by the owner only, replacing the file in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".demo-password-")  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(password + "\n")
        os.replace(temp_name, path)
    except BaseException:
        os.unlink(temp_name)
        raise


async def ensure_demo(db: Database, data_dir: Path, *, rotate: bool = False) -> DemoAccount:
    """Create the demo account or keep its password (see the module docstring); grant its welcome
    credits once. Argon2 runs with no transaction open."""
    path = data_dir / PASSWORD_FILE
    passwords = Passwords()
    kept = None if rotate else read_kept(path)
    existing = await db.run(lambda session: repository.get_by_email(session, DEMO_EMAIL), write=False)
    if existing is None:
        password, state = kept or accounts.random_password(), DemoPassword.CREATED
    elif kept is not None and (await passwords.verify(kept, existing.password_hash))[0]:
        password, state = kept, DemoPassword.KEPT
    else:
        password, state = accounts.random_password(), DemoPassword.ROTATED
    # A new account's password is hashed by create_user, before its first statement.
    new_hash = await passwords.hash(password) if state is DemoPassword.ROTATED else None

    async def unit(session: AsyncSession) -> None:
        if state is DemoPassword.CREATED:
            user = await accounts.create_user(
                session, passwords, email=DEMO_EMAIL, password=password, name="Demo"
            )
        else:
            found = await repository.get_by_email(session, DEMO_EMAIL)
            if found is None:
                raise NotFound(f"The demo account {DEMO_EMAIL} was deleted meanwhile")
            user = found
            if new_hash is not None:
                await accounts.replace_password(session, user, new_hash)
        # The key makes the welcome credits a one-time grant, however often this runs.
        await ledger.move(
            session,
            user_id=user.id,
            amount=DEMO_CREDITS,
            kind=EntryKind.BONUS,
            reason="demo account welcome credits",
            idempotency_key="demo-welcome",
        )

    await db.run(unit)
    if state is not DemoPassword.KEPT or read_kept(path) != password:
        keep(path, password)
    return DemoAccount(DEMO_EMAIL, password, state)
