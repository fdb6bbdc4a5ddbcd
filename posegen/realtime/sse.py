"""`GET /generations/{id}/events`: one generation's events as Server-Sent Events, resumable.

Bearer auth like every endpoint; `Last-Event-ID` (the last seq seen) resumes
after it. Stored events are replayed, then live ones follow; the stream ends
after the generation's final event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse

from posegen.auth.dependencies import CurrentUser
from posegen.db import Session, UnitOfWorkRoute
from posegen.dependencies import ServicesDep
from posegen.generation import manage
from posegen.kit.time import utcnow
from posegen.realtime.fanout import Listener
from posegen.realtime.sequencer import FINAL_KINDS, Sequencer

router = APIRouter(tags=["live"], route_class=UnitOfWorkRoute)
KEEPALIVE_SECONDS = 15.0


def _frame(event: dict[str, Any]) -> bytes:
    """One SSE frame; a live-only event (no seq) has no `id:`, so it never moves Last-Event-ID."""
    payload = json.dumps({key: event[key] for key in ("generationId", "seq", "kind", "data", "timestamp")})
    identity = f"id: {event['seq']}\n" if event.get("seq") is not None else ""
    return f"{identity}event: {event['kind']}\ndata: {payload}\n\n".encode()


@router.get(
    "/generations/{generation_id}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The generation's events, one frame each",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def generation_events(
    generation_id: str,
    services: ServicesDep,
    user: CurrentUser,
    session: Session,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=2**31)] = None,
) -> StreamingResponse:
    """A generation's events as `text/event-stream` (`id:` is the seq; honours `Last-Event-ID`)."""
    generation = await manage.owned(session, user, generation_id)
    listener = Listener(user.id, services.settings.realtime.queue_size)
    services.bus.fanout.add(listener)  # before the replay, so nothing falls between the two
    sequencer = Sequencer(services.db, services.storage, utcnow())
    after = last_event_id or 0

    async def stream() -> AsyncIterator[bytes]:
        try:
            for event in await sequencer.replay(generation.id, after):
                yield _frame(event)
                if event["kind"] in FINAL_KINDS:
                    return
            while True:
                item = await listener.next(KEEPALIVE_SECONDS)
                if item is None:
                    yield b": keep-alive\n\n"
                    continue
                kind, incoming = item
                if kind != "event":
                    return  # overflow or shutdown: the client resumes with Last-Event-ID
                if incoming.get("generationId") != generation.id:
                    continue
                for event in await sequencer.admit(incoming):
                    yield _frame(event)
                    if event["kind"] in FINAL_KINDS:
                        return
        finally:
            services.bus.fanout.remove(listener)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
