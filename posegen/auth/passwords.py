"""Argon2id password hashing, run off the event loop.

Unknown emails are verified against a dummy hash so a login costs the same
work whether or not the account exists.
"""

from __future__ import annotations

import secrets

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.concurrency import run_in_threadpool


class Passwords:
    def __init__(self) -> None:
        self._hash = PasswordHash((Argon2Hasher(),))
        self._dummy = self._hash.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        return await run_in_threadpool(self._hash.hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """Whether `password` matches, and a new hash if the stored one uses old parameters.

        With `stored_hash=None` (no such account) the same work is done against a
        dummy hash and the answer is always no.
        """
        if stored_hash is None:
            await run_in_threadpool(self._hash.verify, password, self._dummy)
            return False, None
        return await run_in_threadpool(self._hash.verify_and_update, password, stored_hash)
