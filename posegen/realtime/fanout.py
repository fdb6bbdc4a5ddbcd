"""One bus subscription per process, fanned out in memory to that process's listeners."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Literal

Event = dict[str, Any]
Kind = Literal["event", "command", "overflow", "shutdown", "closed"]
Item = tuple[Kind, Any]


class Listener:
    """One connection's inbox: events from the bus, the client's commands and control signals,
    in arrival order, so the connection's loop waits on one queue (no task per message).

    At most `size` events wait at once; a listener that falls further behind gets an
    `overflow` signal and no more events — its connection closes and the client resumes
    with afterSeq."""

    def __init__(self, user_id: str, size: int) -> None:
        self.user_id = user_id
        self.size = size
        self.inbox: asyncio.Queue[Item] = asyncio.Queue()
        self.pending_events = 0
        self.overflowed = False

    def offer(self, event: Event) -> None:
        if self.overflowed:
            return
        if self.pending_events >= self.size:
            self.overflowed = True
            self.inbox.put_nowait(("overflow", None))
            return
        self.pending_events += 1
        self.inbox.put_nowait(("event", event))

    def signal(self, kind: Kind, payload: Any = None) -> None:
        self.inbox.put_nowait((kind, payload))

    async def next(self, within: float | None) -> Item | None:
        """The next item, or None when `within` seconds pass first."""
        try:
            async with asyncio.timeout(within):
                item = await self.inbox.get()
        except TimeoutError:
            return None
        if item[0] == "event":
            self.pending_events -= 1
        return item


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
