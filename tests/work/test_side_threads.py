"""Side threads: the worker's CPU-bound side work runs below the event loop's priority, with the
caller's context."""

from __future__ import annotations

import contextvars
import os
import sys
import threading

import pytest

from posegen.work.side_threads import NICENESS, SideThreads

label: contextvars.ContextVar[str] = contextvars.ContextVar("label", default="none")


def where_and_how() -> tuple[int, int, str]:
    return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, 0), label.get()


async def test_side_work_runs_in_another_thread_with_the_callers_context() -> None:
    threads = SideThreads(2)
    label.set("generation g1")
    try:
        thread, _niceness, seen = await threads.run(where_and_how)
    finally:
        threads.close()
    assert thread != threading.get_native_id()
    assert seen == "generation g1"


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own niceness exists on Linux only")
async def test_side_threads_run_below_the_event_loops_priority() -> None:
    threads = SideThreads(1)
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        _thread, niceness, _seen = await threads.run(where_and_how)
    finally:
        threads.close()
    assert niceness == min(19, mine + NICENESS)
    assert os.getpriority(os.PRIO_PROCESS, 0) == mine  # the loop's own thread is untouched
