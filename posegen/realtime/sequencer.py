"""Per-connection ordering: events leave in seq order per generation, never twice, never with a gap.

Live events can arrive out of order (two workers commit events of one
generation, their publishes race) or twice (Redis and the fallback poller).
A connection remembers, per generation, the last seq it has accounted for
and every seq it has sent; it drops repeats and fills a gap from the stored
events before sending what arrived early.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from posegen.db import Database
from posegen.generation import repository as generations
from posegen.generation.event_kinds import FINAL_KINDS as FINAL_KINDS  # also read by sse.py
from posegen.generation.events import as_message
from posegen.realtime.fanout import Event
from posegen.storage.base import Storage


class Sequencer:
    def __init__(self, db: Database, storage: Storage, connected_at: datetime) -> None:
        self.db = db
        self.storage = storage
        self.connected_at = connected_at
        self.last: dict[str, int] = {}
        self.sent: dict[str, set[int]] = {}

    async def stored(self, generation_id: str, after_seq: int, before_seq: int | None = None) -> list[Event]:
        async with self.db.session(write=False) as session:
            rows = await generations.stored_events(session, generation_id, after_seq, before_seq)
            return [as_message(row) for row in rows]

    async def replay(self, generation_id: str, after_seq: int) -> list[dict[str, Any]]:
        """Stored events after `after_seq` not yet sent on this connection, in order."""
        sent = self.sent.setdefault(generation_id, set())
        out = [
            self._send(event)
            for event in await self.stored(generation_id, after_seq)
            if event["seq"] not in sent
        ]
        self.last[generation_id] = max([self.last.get(generation_id, after_seq), after_seq, *sent])
        return out

    async def admit(self, event: Event) -> list[dict[str, Any]]:
        """What to send for an incoming event: nothing (a repeat), or it with any missing ones first.
        A live-only event (no seq, e.g. `pose.progress`) goes out at once: it has no place in the
        order and nothing stored to fill from."""
        if event.get("seq") is None:
            return [self.format(event)]
        generation_id, seq = str(event["generationId"]), int(event["seq"])
        if generation_id not in self.last:
            self.last[generation_id] = await self._baseline(generation_id, seq)
        last = self.last[generation_id]
        if seq <= last or seq in self.sent.get(generation_id, ()):
            return []
        out: list[dict[str, Any]] = []
        if seq > last + 1:
            out += [self._send(missing) for missing in await self.stored(generation_id, last, seq)]
        out.append(self._send(event))
        self.last[generation_id] = seq
        return out

    async def _baseline(self, generation_id: str, seq: int) -> int:
        """Where a generation first heard of on this connection starts: from its first event if it
        was created since the connection opened, else from this event (no history replay)."""
        if seq == 1:
            return 0
        async with self.db.session(write=False) as session:
            created = await generations.generation_created_at(session, generation_id)
        return 0 if created is not None and created >= self.connected_at else seq - 1

    def _send(self, event: Event) -> dict[str, Any]:
        generation_id = str(event["generationId"])
        if str(event["kind"]) in FINAL_KINDS:
            # Its last event: forget the sent set so a long-lived connection does not grow with
            # every generation it ever saw (`last` still drops repeats).
            self.sent.pop(generation_id, None)
        else:
            self.sent.setdefault(generation_id, set()).add(int(event["seq"]))
        return self.format(event)

    def format(self, event: Event) -> dict[str, Any]:
        """The client's view: stored file keys become signed URLs."""
        data = dict(event.get("data") or {})
        if "thumbnailKey" in data:
            key = data.pop("thumbnailKey")
            data["thumbnailUrl"] = self.storage.url(key) if key else None
        return {
            "type": "event",
            "generationId": event["generationId"],
            "seq": event["seq"],
            "kind": event["kind"],
            "data": data,
            "timestamp": event["timestamp"],
        }
