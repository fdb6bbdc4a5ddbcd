"""Generation events: rows written in the transaction of the change they describe.

Every event is a typed event of the registry (`event_kinds`): its model gives the kind and checks
the payload, so no producer can write a kind or a payload that clients do not know.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.db import EVENT_SINK, after_commit
from posegen.generation.event_kinds import EventData
from posegen.generation.models import Generation, GenerationEvent
from posegen.kit.time import isoformat_z, utcnow


def checked(event: EventData) -> tuple[str, dict[str, Any]]:
    """The kind and stored payload of an event; raises for a live-only kind (never stored)."""
    if not event.stored:
        raise ValueError(f"{event.kind} is live only and never stored")
    return event.kind, event.data()


async def append(
    session: AsyncSession,
    generation_id: str,
    user_id: str,
    event: EventData,
) -> int:
    """Add the next event of a generation; its sequence number.

    `last_seq` is raised by one atomic UPDATE, which also serialises concurrent
    writers of the same generation, so sequence numbers never repeat or skip.
    """
    kind, payload = checked(event)
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


async def append_many(
    session: AsyncSession, generation_id: str, user_id: str, items: Sequence[EventData]
) -> None:
    """Add several events of one generation at once: their sequence numbers are reserved by one
    UPDATE and the rows inserted together (a cancel of 500 poses writes 500 events in two statements)."""
    if not items:
        return
    # Checked before the UPDATE, so a bad item reserves no sequence numbers.
    written = [checked(item) for item in items]
    result = await session.execute(
        update(Generation)
        .where(Generation.id == generation_id)
        .values(last_seq=Generation.last_seq + len(items))
        .returning(Generation.last_seq)
    )
    first = int(result.scalar_one()) - len(items) + 1
    await _insert(session, generation_id, user_id, written, first)


async def insert_reserved(
    session: AsyncSession, generation_id: str, user_id: str, items: Sequence[EventData], first_seq: int
) -> None:
    """Add events whose sequence numbers the caller already reserved (`first_seq` onwards), in the
    UPDATE of the generation row it made anyway — a pose's completion counts it and reserves its
    events in one statement."""
    if items:
        await _insert(session, generation_id, user_id, [checked(item) for item in items], first_seq)


async def _insert(
    session: AsyncSession,
    generation_id: str,
    user_id: str,
    written: Sequence[tuple[str, dict[str, Any]]],
    first: int,
) -> None:
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


def live_message(generation_id: str, user_id: str, event: EventData) -> dict[str, Any]:
    """A live-only event (`stored = False`, e.g. `pose.progress`) as the bus carries it: no `seq`,
    so connections pass it on at once and never ask the database for it."""
    if event.stored:
        raise ValueError(f"{event.kind} is stored; write it with append()")
    return {
        "generationId": generation_id,
        "userId": user_id,
        "seq": None,
        "kind": event.kind,
        "data": event.data(),
        "timestamp": isoformat_z(utcnow()),
    }


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
