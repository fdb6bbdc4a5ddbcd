"""Per-connection ordering: events leave in seq order per generation, never twice, never with a gap.

Live events can arrive out of order (two workers commit events of one
generation, their publishes race) or twice (Redis and the fallback poller).
A connection remembers the last seq it sent per generation, drops repeats,
and fills a gap from the stored events before sending what arrived early.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from posegen.db import Database
from posegen.generation.events import as_message
from posegen.generation.models import GenerationEvent
from posegen.realtime.fanout import Event
from posegen.storage.base import Storage


class Sequencer:
    def __init__(self, db: Database, storage: Storage) -> None:
        self.db = db
        self.storage = storage
        self.last: dict[str, int] = {}

    async def stored(self, generation_id: str, after_seq: int, before_seq: int | None = None) -> list[Event]:
        async with self.db.session(write=False) as session:
            query = select(GenerationEvent).where(
                GenerationEvent.generation_id == generation_id, GenerationEvent.seq > after_seq
            )
            if before_seq is not None:
                query = query.where(GenerationEvent.seq < before_seq)
            rows = await session.scalars(query.order_by(GenerationEvent.seq))
            return [as_message(row) for row in rows]

    async def replay(self, generation_id: str, after_seq: int) -> list[dict[str, Any]]:
        """Stored events after `after_seq`, formatted; the connection continues from the last one."""
        self.last[generation_id] = after_seq
        out: list[dict[str, Any]] = []
        for event in await self.stored(generation_id, after_seq):
            out += await self.admit(event)
        return out

    async def admit(self, event: Event) -> list[dict[str, Any]]:
        """What to send for an incoming event: nothing (a repeat), or it with any missing ones first."""
        generation_id, seq = str(event["generationId"]), int(event["seq"])
        last = self.last.get(generation_id)
        if last is not None and seq <= last:
            return []
        out: list[dict[str, Any]] = []
        if last is not None and seq > last + 1:
            out += [self.format(missing) for missing in await self.stored(generation_id, last, seq)]
        out.append(self.format(event))
        self.last[generation_id] = seq
        return out

    def format(self, event: Event) -> dict[str, Any]:
        """The client's view: stored file keys become signed URLs."""
        data = dict(event.get("data") or {})
        key = data.pop("thumbnailKey", None)
        if "thumbnailKey" in (event.get("data") or {}):
            data["thumbnailUrl"] = self.storage.url(key) if key else None
        return {
            "type": "event",
            "generationId": event["generationId"],
            "seq": event["seq"],
            "kind": event["kind"],
            "data": data,
            "timestamp": event["timestamp"],
        }
