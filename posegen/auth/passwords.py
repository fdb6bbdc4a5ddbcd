"""Argon2id password hashing, run off the event loop.

Unknown emails are verified against a dummy hash so a login costs the same
work whether or not the account exists. At most one hash per CPU but one runs
at a time: a flood of logins queues for Argon2 instead of starving every other
request of CPU (and of memory: each hash takes 64 MiB).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from typing import TypeVar

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


def _hashing_slots() -> int:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cpus - 1)


class Passwords:
    def __init__(self) -> None:
        self._hash = PasswordHash((Argon2Hasher(),))
        self._dummy = self._hash.hash(secrets.token_urlsafe(24))
        self._slots = asyncio.Semaphore(_hashing_slots())

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        async with self._slots:
            return await run_in_threadpool(work, *args)

    async def hash(self, password: str) -> str:
        return await self._run(self._hash.hash, password)

    async def verify(self, password: str, stored_hash: str | None) -> tuple[bool, str | None]:
        """Whether `password` matches, and a new hash if the stored one uses old parameters.

        With `stored_hash=None` (no such account) the same work is done against a
        dummy hash and the answer is always no.
        """
        if stored_hash is None:
            await self._run(self._hash.verify, password, self._dummy)
            return False, None
        return await self._run(self._hash.verify_and_update, password, stored_hash)
