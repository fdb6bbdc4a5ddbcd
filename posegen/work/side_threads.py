"""The worker's CPU-bound side work — post-processing a render, the pose check's detection — in
threads of its own that yield the CPU to the event loop.

Why a lower priority: slots that started together finish together, so the post-processing of
several renders (decode, resize, PNG and WebP encoding: tens of milliseconds of CPU each) lands at
the very moment the freed slots' claim waits for its replies. The operating system shares the cores
fairly between all those threads, so the claim — the one piece of work the engine is idle for —
waited behind the encoders: 19 ms per claim in B1 instead of 8 ms, which made every slot's cycle
~10 % longer than the engine's render. At niceness +10 the scheduler runs the event loop (and the
database) first and the encoders in the idle time that follows; the encoding is no slower on an
idle machine, and a finisher that waits longer only delays a commit. Measured in
benchmarks/README.md ("Issue 12", last column).

Linux only: there the niceness of `setpriority(PRIO_PROCESS, 0, …)` belongs to the calling thread
(NPTL); elsewhere the same call would lower the whole process, so the threads keep the process's
priority.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

# Added to the process's niceness in each side thread (19 is the lowest priority Linux has).
NICENESS = 10


def _lower_priority() -> None:
    if sys.platform != "linux":
        return
    # Raising one's own niceness needs no privilege; should it still fail, the work only runs at
    # the normal priority.
    with contextlib.suppress(OSError):
        current = os.getpriority(os.PRIO_PROCESS, 0)
        os.setpriority(os.PRIO_PROCESS, 0, min(19, current + NICENESS))


class SideThreads:
    """A pool of `threads` lower-priority threads (created on first use)."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="posegen-side", initializer=_lower_priority
        )

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`function(*args, **kwargs)` in a side thread, with the caller's context (log fields)."""
        context = contextvars.copy_context()
        call = functools.partial(context.run, function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)

    def close(self) -> None:
        """Let the threads end once idle; work already running finishes."""
        self._pool.shutdown(wait=False, cancel_futures=True)
