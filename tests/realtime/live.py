"""A real uvicorn server in the test's event loop, for real WebSocket and SSE clients."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection

from posegen.serving import Server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def live_server(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="on", log_config=None, ws_ping_interval=None
    )
    server = Server(config, app)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        assert not task.done(), "server failed to start"
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def receive(ws: ClientConnection, within: float = 10.0) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(ws.recv(), within))
    assert isinstance(message, dict)
    return message


async def events_until(ws: ClientConnection, final: set[str], within: float = 30.0) -> list[dict[str, Any]]:
    """Every event message until one of the `final` kinds (inclusive)."""
    got: list[dict[str, Any]] = []
    while True:
        message = await receive(ws, within)
        if message.get("type") != "event":
            continue
        got.append(message)
        if message["kind"] in final:
            return got
