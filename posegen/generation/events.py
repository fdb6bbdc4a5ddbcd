"""Generation events: rows written in the transaction of the change they describe.

Every event goes through the registry of `event_kinds` before it is written: a typed event
gives its kind and payload; the older `(kind, data)` form is parsed into one first, so an
unknown kind or a payload that does not fit raises instead of reaching clients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.db import EVENT_SINK, after_commit
from posegen.generation.event_kinds import EventData, parse
from posegen.generation.models import Generation, GenerationEvent
from posegen.kit.time import isoformat_z

# An event to write: typed, or a kind string and its payload (checked against the registry).
Item = EventData | tuple[str, Mapping[str, Any]]


def checked(event: EventData | str, data: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The kind and stored payload of an event, validated by the registry; raises for an unknown
    kind, a payload that does not fit its kind, or a live-only kind (those are never stored)."""
    if isinstance(event, str):
        typed = parse(event, data if data is not None else {})
    elif data is not None:
        raise TypeError("a typed event carries its own data")
    else:
        typed = event
    if not typed.stored:
        raise ValueError(f"{typed.kind} is live only and never stored")
    return typed.kind, typed.data()


async def append(
    session: AsyncSession,
    generation_id: str,
    user_id: str,
    event: EventData | str,
    data: Mapping[str, Any] | None = None,
) -> int:
    """Add the next event of a generation; its sequence number. `event` is a typed event, or a
    kind string with its `data`.

    `last_seq` is raised by one atomic UPDATE, which also serialises concurrent
    writers of the same generation, so sequence numbers never repeat or skip.
    """
    kind, payload = checked(event, data)
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation_id)
        .values(last_seq=Generation.last_seq + 1)
        .returning(Generation.last_seq)
    )
    seq = int(result.scalar_one())
    row = GenerationEvent(generation_id=generation_id, user_id=user_id, seq=seq, kind=kind, data=payload)
    session.add(row)
    await session.flush()
    sink = session.info.get(EVENT_SINK)
    if sink is not None:
        message = as_message(row)
        after_commit(session, lambda: sink(message))
    return seq


async def append_many(session: AsyncSession, generation_id: str, user_id: str, items: Sequence[Item]) -> None:
    """Add several events of one generation at once: their sequence numbers are reserved by one
    UPDATE and the rows inserted together (a cancel of 500 poses writes 500 events in two statements).
    Each item is a typed event or a `(kind, data)` pair."""
    if not items:
        return
    # Checked before the UPDATE, so a bad item reserves no sequence numbers.
    written = [checked(item) if isinstance(item, EventData) else checked(*item) for item in items]
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation_id)
        .values(last_seq=Generation.last_seq + len(items))
        .returning(Generation.last_seq)
    )
    first = int(result.scalar_one()) - len(items) + 1
    rows = [
        GenerationEvent(
            generation_id=generation_id, user_id=user_id, seq=first + index, kind=kind, data=payload
        )
        for index, (kind, payload) in enumerate(written)
    ]
    session.add_all(rows)
    await session.flush()
    sink = session.info.get(EVENT_SINK)
    if sink is not None:
        messages = [as_message(row) for row in rows]
        after_commit(session, lambda: [sink(message) for message in messages])


def as_message(event: GenerationEvent) -> dict[str, Any]:
    """The event as the bus carries it (and clients receive it, keys aside)."""
    return {
        "generationId": event.generation_id,
        "userId": event.user_id,
        "seq": event.seq,
        "kind": event.kind,
        "data": event.data,
        "timestamp": isoformat_z(event.created_at),
    }


async def after(
    session: AsyncSession, generation_id: str, after_seq: int, limit: int = 1000
) -> list[GenerationEvent]:
    """Stored events with `seq > after_seq`, in order."""
    rows = await session.scalars(
        select(GenerationEvent)
        .where(GenerationEvent.generation_id == generation_id, GenerationEvent.seq > after_seq)
        .order_by(GenerationEvent.seq)
        .limit(limit)
    )
    return list(rows)
