"""Per-request context: the `X-Request-ID`, the access log line, and the last-resort 500.

A pure ASGI middleware (no `BaseHTTPMiddleware`): it wraps `send` to add the
header and catches what no handler did, so an unhandled exception still
answers the envelope and its traceback reaches the log, never the client.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posegen.kit.context import request_id_var
from posegen.kit.envelope import error_body
from posegen.kit.ids import new_id

HEADER = "x-request-id"
# Echo only ids that cannot smuggle anything into logs or headers.
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = structlog.get_logger("posegen.request")


def request_id_of(scope: Scope) -> str | None:
    """The request id of this request or WebSocket connection."""
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == HEADER.encode():
            text = value.decode("latin-1")
            return text if _WELL_FORMED.fullmatch(text) else None
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

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
        status: dict[str, Any] = {"code": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled_exception", method=scope.get("method"), path=scope.get("path"))
            if scope["type"] != "http" or status["code"] is not None:
                raise
            await self._internal_error(request_id, send_with_id)
        finally:
            if scope["type"] == "http":
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status["code"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
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
