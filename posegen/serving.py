"""Serving the app with uvicorn: WebSockets closed with 1001 before the server drops connections,
the embedded worker told to stop claiming as soon as the signal arrives, and exit status 0 after a
clean shutdown."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI
from uvicorn.server import HANDLED_SIGNALS

from posegen.app import begin_shutdown, close_sockets

# uvicorn's own exit status when the application failed to start.
STARTUP_FAILURE = 3


class Server(uvicorn.Server):
    """uvicorn closes open WebSockets with 1012 when it stops; posegen says "going away" (1001)
    first, so clients know to reconnect elsewhere and resume with afterSeq."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        begin_shutdown(self._app)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """uvicorn's signal capture without its last step: uvicorn raises the caught signal again
        after shutting down, so the process dies of SIGTERM (status 143). posegen is the process a
        supervisor runs, and a shutdown that drained cleanly is a success: status 0."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if getattr(self._app.state, "services", None) is not None:
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
    server = Server(config, app)
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
