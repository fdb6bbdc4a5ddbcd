"""The browser session: the access token in an `HttpOnly`, `SameSite=Strict` cookie.

The web app never holds a token in script, a URL or `localStorage`: signing in
through `POST /api/auth/session` sets the `posegen_session` cookie, which the
API accepts wherever it accepts a Bearer header (a header, when sent, wins).
A write authenticated by the cookie must also carry `X-CSRF-Token`, derived
from the session token (`TokenService.csrf_token`) and given to pages in a
`<meta name="csrf-token">`; a write without it is 403. Reads need no CSRF
token: they change nothing. Decisions in docs/decisions.md.
"""

from __future__ import annotations

import hmac
from datetime import datetime

from starlette.requests import HTTPConnection
from starlette.responses import Response

from posegen.auth.tokens import TokenService
from posegen.config import Environment, Settings
from posegen.dependencies import get_settings
from posegen.errors import Forbidden
from posegen.kit.time import utcnow

COOKIE = "posegen_session"
CSRF_HEADER = "X-CSRF-Token"
# Methods that change nothing; every other method authenticated by the cookie needs the CSRF token.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_allowed(connection: HTTPConnection) -> bool:
    """Whether a browser request comes from an allowed origin: no `Origin` (not a browser), the
    server's own origin, or one of `server.allowed_origins`."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    if origin.split("://", 1)[-1] == connection.headers.get("host", ""):
        return True
    allowed: list[str] = get_settings(connection).allowed_origins
    return origin in allowed


def require_allowed_origin(connection: HTTPConnection) -> None:
    """Signing in from another site's page (login CSRF) is refused before any password is read."""
    if not origin_allowed(connection):
        raise Forbidden("Origin not allowed", details={"reason": "origin"})


def session_token(connection: HTTPConnection) -> str | None:
    """The token of the session cookie, if the request carries one."""
    value = connection.cookies.get(COOKIE, "").strip()
    return value or None


def require_csrf(connection: HTTPConnection, tokens: TokenService, token: str, method: str) -> None:
    """Refuse a cookie-authenticated write whose `X-CSRF-Token` is missing or not this session's."""
    if method.upper() in SAFE_METHODS:
        return
    sent = connection.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent, tokens.csrf_token(token)):
        raise Forbidden(
            "A write signed in by the session cookie needs the X-CSRF-Token header of that session",
            details={"reason": "csrf"},
        )


def secure_cookies(settings: Settings, connection: HTTPConnection) -> bool:
    """`Secure` cookies in production and on HTTPS (a local http:// development server keeps
    working without them)."""
    return settings.env is Environment.PRODUCTION or connection.url.scheme == "https"


def set_session_cookie(
    response: Response, settings: Settings, connection: HTTPConnection, token: str, expires_at: datetime
) -> None:
    max_age = max(0, int((expires_at - utcnow()).total_seconds()))
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=secure_cookies(settings, connection),
    )


def clear_session_cookie(response: Response, settings: Settings, connection: HTTPConnection) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=secure_cookies(settings, connection)
    )
