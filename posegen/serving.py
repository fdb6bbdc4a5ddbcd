"""Serving the app with uvicorn, closing WebSockets with 1001 before the server drops connections."""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI

from posegen.app import close_sockets


class Server(uvicorn.Server):
    """uvicorn closes open WebSockets with 1012 when it stops; posegen says "going away" (1001)
    first, so clients know to reconnect elsewhere and resume with afterSeq."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if getattr(self._app.state, "going_away", None) is not None:
            await close_sockets(self._app)
        await super().shutdown(sockets)


def serve(app: FastAPI, host: str, port: int) -> None:
    # No permessage-deflate: events are small JSON, and a compressor pair per socket would cost
    # ~40 KiB of memory on every idle connection (B7).
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        proxy_headers=False,
        ws_per_message_deflate=False,
        # No `server: uvicorn` banner: naming the server and its stack helps only an attacker.
        server_header=False,
    )
    Server(config, app).run()
