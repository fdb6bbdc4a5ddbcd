"""Per-request context: the `X-Request-ID`, the access log line, and the last-resort 500.

A pure ASGI middleware (no `BaseHTTPMiddleware`): it wraps `send` to add the
header and catches what no handler did, so an unhandled exception still
answers the envelope and its traceback reaches the log, never the client.

The access line is posegen's only one (uvicorn's are switched off, see
observability/logging.py): method, route template, status and duration. It
names the route template (`/generations/{generation_id}`), never the raw path
or its query string — a WebSocket authenticates with `?token=<JWT>`, and
signed file URLs carry their signature there.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import structlog
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posegen.kit.context import request_id_var
from posegen.kit.envelope import error_body
from posegen.kit.ids import new_id

HEADER = "x-request-id"
# Echo only ids that cannot smuggle anything into logs or headers.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = structlog.get_logger("posegen.request")


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            text = value.decode("latin-1")
            return text if _WELL_FORMED.fullmatch(text) else None
    return None


def route_template(scope: Scope) -> str | None:
    """The full path template of the route that handled this request, or None when no route
    matched (a 404 names no route rather than echo an arbitrary path into the log)."""
    route = scope.get("route")
    if not isinstance(route, BaseRoute):
        return None
    # FastAPI ≥ 0.16x keeps the route of an included router as declared, so `route.path` lacks
    # the prefixes of the routers above it; the match it records for the request has the full
    # template. tests/observability/test_request_log.py pins the result to the full template.
    effective = (scope.get("fastapi") or {}).get("effective_route_context")
    for candidate in (getattr(effective, "path_format", None), getattr(route, "path", None)):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None


def _status_of(message: Message, accepted: bool) -> int | None:
    """The HTTP status a response message decides, as the client sees it."""
    kind = message["type"]
    if kind in ("http.response.start", "websocket.http.response.start"):
        status: int = message["status"]
        return status
    if kind == "websocket.accept":
        return 101
    if kind == "websocket.close" and not accepted:
        return 403  # a close before accepting refuses the handshake (ASGI spec)
    return None


RequestObserver = Callable[[str, str | None, int | None, float], None]
"""Told of every finished HTTP request: method, route template (None: no route), status, seconds."""


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, observe: RequestObserver | None = None) -> None:
        self.app = app
        # The latency histogram (observability/prometheus.py); a hook, so this module imports nothing
        # of the metrics.
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        request_id = _incoming_id(scope) or new_id()
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        request_id_token = request_id_var.set(request_id)

        started = time.perf_counter()
        # A WebSocket has no method; "WEBSOCKET" tells its line apart from plain GETs.
        method = scope.get("method") if scope["type"] == "http" else "WEBSOCKET"
        status: dict[str, Any] = {"code": None, "close_code": None}

        async def send_with_id(message: Message) -> None:
            code = _status_of(message, accepted=status["code"] == 101)
            if status["code"] is None and code is not None:
                status["code"] = code
            if message["type"] == "websocket.close":
                status["close_code"] = message.get("code", 1000)
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_exception", method=method, route=route_template(scope))
            if scope["type"] != "http" or status["code"] is not None:
                raise
            await self._internal_error(request_id, send_with_id)
        finally:
            extra = {"close_code": status["close_code"]} if scope["type"] == "websocket" else {}
            seconds = time.perf_counter() - started
            route = route_template(scope)
            log.info(
                "request",
                method=method,
                route=route,
                status=status["code"],
                duration_ms=round(seconds * 1000, 2),
                **extra,
            )
            # A WebSocket's duration is its lifetime, not a latency: only HTTP requests are observed.
            if self.observe is not None and scope["type"] == "http":
                self.observe(str(method), route, status["code"], seconds)
            structlog.contextvars.clear_contextvars()
            request_id_var.reset(request_id_token)

    @staticmethod
    async def _internal_error(request_id: str, send: Send) -> None:
        body = json.dumps(
            error_body(
                status=500,
                code="INTERNAL_ERROR",
                message="Internal server error",
                request_id=request_id,
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
