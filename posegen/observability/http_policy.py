"""HTTP-level policy around the app: security headers on every response, CORS refusals as envelopes.

Security headers (documented in docs/decisions.md):

- `X-Content-Type-Options: nosniff` — a browser never guesses a type other
  than the one declared (a JSON error or an uploaded image cannot be run as
  script or HTML).
- `Referrer-Policy: no-referrer` — signed file URLs carry their signature in
  the query string; a page that follows a link must not pass it on.
- `X-Frame-Options: DENY` — nothing the service answers is meant to be framed
  (clickjacking of the docs or a future web page).

A header the route already set is left alone.
"""

from __future__ import annotations

import json

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from posegen.kit.context import request_id_var
from posegen.kit.envelope import error_body

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class SecurityHeadersMiddleware:
    """Adds `SECURITY_HEADERS` to every HTTP response, errors and the last-resort 500 included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((name, value) for name, value in SECURITY_HEADERS if name not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


# Starlette's wording of what a preflight asked for and was refused ("Disallowed CORS origin, method").
_REFUSAL_PREFIX = "Disallowed CORS "


class EnvelopeCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware whose refused preflight is a 403 `FORBIDDEN` envelope, not plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        text = bytes(response.body).decode("utf-8", "replace")
        refused = [part.strip() for part in text.removeprefix(_REFUSAL_PREFIX).split(",") if part.strip()]
        message = "Origin not allowed" if "origin" in refused else "Cross-origin request not allowed"
        body = error_body(
            status=403,
            code="FORBIDDEN",
            message=message,
            request_id=request_id_var.get(),
            details={"refused": refused},
        )
        headers = {
            name: value
            for name, value in response.headers.items()
            if name.lower() not in ("content-type", "content-length")
        }
        return Response(json.dumps(body), status_code=403, headers=headers, media_type="application/json")
