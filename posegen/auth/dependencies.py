"""Who is calling: `CurrentUser` for any account, `require_admin` for admin routers.

The token comes from the `Authorization: Bearer` header or, for the web app,
from the `HttpOnly` session cookie (with a CSRF token on writes; see
auth/session.py); a token in the query string is never looked at. The user, and so the role, is read from the
database on every request, so a demotion or a disabled account takes effect at
once.
"""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from posegen.auth import repository
from posegen.auth import session as web_session
from posegen.auth.models import User
from posegen.db import Session
from posegen.dependencies import TokensDep
from posegen.errors import Forbidden, Unauthorized
from posegen.ratelimit.http import count_write

# The OpenAPI security scheme of every route that needs an account: any route depending on
# `current_user` declares it (so /docs can send a token), and a public route declares none.
# auto_error=False: a missing or malformed header reaches posegen's own 401 envelope below.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="An access token from `POST /api/auth/login` or `/api/auth/register`.",
)


def bearer_token(
    request: Request,
    tokens: TokensDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The Bearer header's token; else the web app's session cookie, whose writes must carry the
    session's CSRF token (auth/session.py)."""
    if credentials is not None and credentials.credentials.strip():
        return credentials.credentials.strip()
    cookie = web_session.session_token(request)
    if cookie is not None:
        web_session.require_csrf(request, tokens, cookie, request.method)
        return cookie
    raise Unauthorized("Authentication required")


async def current_user(
    request: Request, session: Session, tokens: TokensDep, token: Annotated[str, Depends(bearer_token)]
) -> User:
    claims = tokens.verify(token)
    user = await repository.get(session, claims.user_id)
    if user is None or claims.token_version != user.token_version:
        raise Unauthorized("Invalid token")
    if not user.is_active:
        raise Unauthorized("Account disabled")
    structlog.contextvars.bind_contextvars(user_id=user.id)
    # Every write of an authenticated user passes here once the user is known: the writes limit.
    await count_write(request, user.id)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def require_admin(user: CurrentUser) -> User:
    """Router-level guard: only accounts whose role is `admin` right now pass."""
    if not user.is_admin:
        raise Forbidden("Administrator role required")
    return user


AdminUser = Annotated[User, Depends(require_admin)]
