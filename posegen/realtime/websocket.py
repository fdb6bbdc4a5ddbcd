"""`GET /ws`: live generation events over a WebSocket, authenticated by the first message.

Protocol (API.md): origin allow-list (4403); a `token` query parameter is
refused unread (4401); the first message, within the auth timeout, is
`{"type": "auth", "token"}` — or `{"type": "auth"}`, meaning the web app's
session cookie sent with the handshake — (4401 otherwise); then `connected`, a `snapshot`
of active generations, and events — all of the user's, or replayed from
`afterSeq` for a generation on `subscribe`. A client that cannot keep up is
closed with 4008 and resumes with `afterSeq`; an expired token ends the
connection with 4401; shutdown closes with 1001. A user already holding
`POSEGEN_LIMITS_WEBSOCKETS_PER_USER` connections has the next one closed with
4429 right after its auth message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from posegen.auth import repository as users
from posegen.auth.session import origin_allowed, session_token
from posegen.dependencies import services_of
from posegen.errors import Unauthorized
from posegen.generation import repository as generations
from posegen.kit.time import isoformat_z, utcnow
from posegen.ratelimit.factory import WEBSOCKETS
from posegen.realtime.fanout import Listener
from posegen.realtime.sequencer import Sequencer

log = structlog.get_logger(__name__)
router = APIRouter()

POLICY_VIOLATION = 4403
UNAUTHORIZED = 4401
TOO_SLOW = 4008
TOO_MANY_CONNECTIONS = 4429  # 4000 + HTTP 429
GOING_AWAY = 1001
SUBSCRIBE_GRACE_SECONDS = 0.5


async def _authenticate(websocket: WebSocket, within_seconds: float) -> tuple[str, float] | None:
    try:
        async with asyncio.timeout(within_seconds):
            raw = await websocket.receive_text()
        message = json.loads(raw)
        if not isinstance(message, dict) or message.get("type") != "auth":
            return None
        # A token in the message; without one, the web app's session cookie of the handshake
        # (the origin check above already refused other sites' pages).
        token = message["token"] if "token" in message else session_token(websocket)
        if not isinstance(token, str):
            return None
        claims = services_of(websocket).tokens.verify(token)
        async with services_of(websocket).db.session(write=False) as session:
            user = await users.get(session, claims.user_id)
        if user is None or not user.is_active or user.token_version != claims.token_version:
            return None
        return user.id, claims.expires_at
    except (TimeoutError, json.JSONDecodeError, Unauthorized, KeyError):
        return None
    except WebSocketDisconnect:
        # The client left during the auth wait: nothing to answer (the caller sees the closed state).
        return None


async def _snapshot(websocket: WebSocket, user_id: str, sequencer: Sequencer) -> list[dict[str, Any]]:
    async with services_of(websocket).db.session(write=False) as session:
        active = await generations.active_generations(session, user_id)
    for generation in active:
        sequencer.last[generation.id] = generation.last_seq
    return [
        {
            "generationId": generation.id,
            "status": generation.status,
            "progress": {
                "completed": generation.poses_completed,
                "failed": generation.poses_failed,
                "total": generation.total_expected,
            },
            "lastSeq": generation.last_seq,
        }
        for generation in active
    ]


async def _owned(websocket: WebSocket, user_id: str, generation_id: object) -> bool:
    if not isinstance(generation_id, str):
        return False
    async with services_of(websocket).db.session(write=False) as session:
        return await generations.owns_generation(session, user_id, generation_id)


class Hold:
    """Live events held back for snapshot generations until subscribed to or the grace ends."""

    def __init__(self, generations: set[str], until: float) -> None:
        self.generations = generations
        self.until = until
        self.events: list[dict[str, Any]] = []

    def keeps(self, event: dict[str, Any]) -> bool:
        return event.get("generationId") in self.generations and time.monotonic() < self.until

    def remaining(self) -> float:
        return max(0.0, self.until - time.monotonic()) if self.generations else float("inf")

    def expired(self) -> bool:
        return bool(self.generations) and time.monotonic() >= self.until

    def release(self, generation_id: str) -> list[dict[str, Any]]:
        self.generations.discard(generation_id)
        released = [event for event in self.events if event.get("generationId") == generation_id]
        self.events = [event for event in self.events if event.get("generationId") != generation_id]
        return released

    def release_all(self) -> list[dict[str, Any]]:
        released, self.events, self.generations = self.events, [], set()
        return released


@router.websocket("/ws")
async def events_socket(websocket: WebSocket) -> None:
    """Live events of the caller's generations (see the module text for the protocol)."""
    await websocket.accept()
    if not origin_allowed(websocket):
        await websocket.close(code=POLICY_VIOLATION, reason="origin not allowed")
        return
    if "token" in websocket.query_params:
        await websocket.close(code=UNAUTHORIZED, reason="send the token in the auth message")
        return
    services = services_of(websocket)
    settings = services.settings
    identity = await _authenticate(websocket, settings.realtime.auth_timeout_seconds)
    if identity is None:
        if websocket.client_state is not WebSocketState.DISCONNECTED:
            await websocket.close(code=UNAUTHORIZED, reason="authentication failed")
        return
    user_id, expires_at = identity
    slot = await services.limiter.acquire_slot(WEBSOCKETS, user_id, settings.limits.websockets_per_user)
    if slot is None:
        await websocket.close(code=TOO_MANY_CONNECTIONS, reason="too many connections for this user")
        return
    bus = services.bus
    sequencer = Sequencer(services.db, services.storage, utcnow())
    listener = Listener(user_id, settings.realtime.queue_size)
    bus.fanout.add(listener)  # before the snapshot, so nothing falls between the two
    services.sockets.add(listener)

    async def read() -> None:
        try:
            while True:
                try:
                    message = json.loads(await websocket.receive_text())
                except json.JSONDecodeError:
                    continue
                if isinstance(message, dict):
                    listener.signal("command", message)
        except (WebSocketDisconnect, RuntimeError):
            listener.signal("closed")

    reader = asyncio.create_task(read())
    try:
        await websocket.send_json({"type": "connected", "userId": user_id})
        snapshot = await _snapshot(websocket, user_id, sequencer)
        await websocket.send_json({"type": "snapshot", "generations": snapshot})
        # Live events of generations in the snapshot wait briefly, so a reconnecting client's
        # `subscribe` (with its afterSeq) is served first and everything leaves in seq order.
        hold = Hold({item["generationId"] for item in snapshot}, time.monotonic() + SUBSCRIBE_GRACE_SECONDS)
        if services.going_away.is_set():
            listener.signal("shutdown")
        while True:
            item = await listener.next(max(0.0, min(expires_at - time.time(), hold.remaining())))
            if hold.expired():
                for held in hold.release_all():
                    await _send_all(websocket, await sequencer.admit(held))
            if time.time() >= expires_at:
                await websocket.close(code=UNAUTHORIZED, reason="token expired")
                return
            if item is None:
                continue
            kind, payload = item
            if kind == "event":
                if hold.keeps(payload):
                    hold.events.append(payload)
                else:
                    await _send_all(websocket, await sequencer.admit(payload))
            elif kind == "command":
                await _handle(websocket, user_id, sequencer, payload, hold)
            elif kind == "overflow":
                await websocket.close(code=TOO_SLOW, reason="too slow: reconnect and resume with afterSeq")
                return
            elif kind == "shutdown":
                await websocket.close(code=GOING_AWAY, reason="server shutting down")
                return
            else:  # the client went away
                return
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        reader.cancel()
        bus.fanout.remove(listener)
        services.sockets.discard(listener)
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await slot.release()


async def _send_all(websocket: WebSocket, items: list[dict[str, Any]]) -> None:
    for item in items:
        await websocket.send_json(item)


async def _handle(
    websocket: WebSocket, user_id: str, sequencer: Sequencer, command: dict[str, Any], hold: Hold
) -> None:
    kind = command.get("type")
    if kind == "ping":
        await websocket.send_json({"type": "pong", "timestamp": isoformat_z(utcnow())})
    elif kind == "subscribe":
        generation_id, after = command.get("generationId"), command.get("afterSeq", 0)
        if not isinstance(after, int) or after < 0 or not await _owned(websocket, user_id, generation_id):
            await websocket.send_json(
                {"type": "error", "code": "NOT_FOUND", "message": "Generation not found"}
            )
            return
        await _send_all(websocket, await sequencer.replay(str(generation_id), after))
        for event in hold.release(str(generation_id)):
            await _send_all(websocket, await sequencer.admit(event))
    else:
        await websocket.send_json(
            {"type": "error", "code": "VALIDATION_ERROR", "message": "Unknown message type"}
        )
