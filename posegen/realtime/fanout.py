"""One bus subscription per process, fanned out in memory to that process's listeners."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

Event = dict[str, Any]


class Listener:
    """One socket's (or stream's) bounded inbox. A listener that falls behind is marked
    overflowed and stops receiving; its connection closes and the client resumes with afterSeq."""

    def __init__(self, user_id: str, size: int) -> None:
        self.user_id = user_id
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=size)
        self.overflowed = asyncio.Event()

    def offer(self, event: Event) -> None:
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed.set()


class Fanout:
    def __init__(self) -> None:
        self._listeners: dict[str, set[Listener]] = defaultdict(set)

    def add(self, listener: Listener) -> None:
        self._listeners[listener.user_id].add(listener)

    def remove(self, listener: Listener) -> None:
        listeners = self._listeners.get(listener.user_id)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self._listeners[listener.user_id]

    def deliver(self, event: Event) -> None:
        """Hand an event to its owner's listeners only: a user never sees another's events."""
        for listener in tuple(self._listeners.get(str(event.get("userId")), ())):
            listener.offer(event)

    @property
    def count(self) -> int:
        return sum(len(listeners) for listeners in self._listeners.values())
