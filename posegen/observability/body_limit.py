"""Request body limits that answer in the error envelope.

Starlette's own limiter answers a plain-text 413 from outside the app's
middleware; this one refuses a declared oversize body before reading it and
stops a streamed one at the limit, both as `PAYLOAD_TOO_LARGE` envelopes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posegen.kit.context import request_id_of
from posegen.kit.envelope import error_body

LimitFor = Callable[[Scope], int]


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, limit_for: LimitFor) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, limit, send)
            return

        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Body parsing re-raises HTTPException, so the envelope handler answers.
                    raise HTTPException(status_code=413, detail="Request body too large")
            return message

        await self.app(scope, counted_receive, send)

    @staticmethod
    async def _refuse(scope: Scope, limit: int, send: Send) -> None:
        body = json.dumps(
            error_body(
                status=413,
                code="PAYLOAD_TOO_LARGE",
                message="Request body too large",
                request_id=request_id_of(scope),
                details={"limitBytes": limit},
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
