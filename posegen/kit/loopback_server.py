"""An ASGI app served by uvicorn in a background thread on 127.0.0.1: the runner of the local
servers that stand in for remote AI services (the FLUX fake here, the tests' ComfyUI fake), so
engines are tested over real HTTP and WebSockets.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import uvicorn
from starlette.types import ASGIApp

START_SECONDS = 10.0


def loopback_socket(port: int = 0) -> socket.socket:
    """A socket bound on 127.0.0.1 (`port` 0: a free one), for the server to listen on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: without it uvicorn's separate header and body writes meet the
    # client's delayed ACK and every answer takes ~40 ms, which would skew tests and benchmarks.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def serve_in_thread(
    name: str,
    app: ASGIApp,
    serve: Callable[[uvicorn.Server], Coroutine[Any, Any, None]],
    graceful_seconds: int,
) -> tuple[uvicorn.Server, threading.Thread]:
    """Start a thread that runs `serve(server)` (which awaits `server.serve(...)` on the caller's
    socket, with whatever it sets up around it) on an event loop of its own; return once the
    server accepts connections. The process's logging is left alone (posegen configures it)."""
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=graceful_seconds,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(serve(server)), name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.005)
    return server, thread


def stop_thread(server: uvicorn.Server | None, thread: threading.Thread | None) -> None:
    """Ask the server to exit and wait for its thread (connections are refused from then on)."""
    if server is not None:
        server.should_exit = True
    if thread is not None:
        thread.join(timeout=10)
