"""`/api/auth`: register, login, logout, me; and the web app's cookie session (`/session`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from posegen.auth import service
from posegen.auth import session as web_session
from posegen.auth.dependencies import CurrentUser
from posegen.auth.models import User
from posegen.auth.schemas import LoginRequest, MeOut, RegisterRequest, SessionOut, UserOut, WebSessionOut
from posegen.auth.tokens import TokenService
from posegen.db import Session, UnitOfWorkRoute
from posegen.dependencies import AccountOpenedDep, DbDep, PasswordsDep, TokensDep, get_settings
from posegen.openapi import errors
from posegen.ratelimit.http import limit_auth_attempts

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=UnitOfWorkRoute)


# Attempts per client address, counted before anything else happens (429 when over).
AUTH_ATTEMPT = [Depends(limit_auth_attempts)]


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, dependencies=AUTH_ATTEMPT, responses=errors(409)
)
async def register(
    body: RegisterRequest,
    session: Session,
    passwords: PasswordsDep,
    tokens: TokensDep,
    opened: AccountOpenedDep,
) -> SessionOut:
    """Create an account and return a token for it. The email is unique in any letter case.
    The account starts with the configured sign-up bonus (`POSEGEN_CREDITS_SIGNUP_BONUS`)."""
    user = await _create_account(body, session, passwords, opened)
    issued = tokens.issue(user.id, user.token_version)
    return SessionOut(user=UserOut.model_validate(user), token=issued.token, expires_at=issued.expires_at)


async def _create_account(
    body: RegisterRequest, session: Session, passwords: PasswordsDep, opened: AccountOpenedDep
) -> User:
    return await service.register(
        session, passwords, email=body.email, password=body.password, name=body.name, opened=opened
    )


@router.post("/login", dependencies=AUTH_ATTEMPT, responses=errors(401, 403))
async def login(body: LoginRequest, db: DbDep, passwords: PasswordsDep, tokens: TokensDep) -> SessionOut:
    """Exchange email and password for a token. Unknown email and wrong password answer alike."""
    user = await _sign_in(body, db, passwords)
    issued = tokens.issue(user.id, user.token_version)
    return SessionOut(user=UserOut.model_validate(user), token=issued.token, expires_at=issued.expires_at)


async def _sign_in(body: LoginRequest, db: DbDep, passwords: PasswordsDep) -> User:
    # Argon2 runs with no transaction open and a refused login writes nothing: the account is
    # read in a read transaction, the password checked after it ended, and only a re-hash (new
    # hashing parameters) is written, in a short write transaction of its own.
    found = await db.run(lambda session: service.find_account(session, body.email), write=False)
    user, new_hash = await service.check_password(passwords, found, body.password)
    if new_hash is not None:
        await db.run(lambda session: service.store_rehash(session, user, new_hash))
    return user


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, session: Session) -> Response:
    """Revoke every token of this account issued so far."""
    await service.logout(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def me(user: CurrentUser) -> MeOut:
    """The calling account."""
    return MeOut(user=UserOut.model_validate(user))


# The web app's session: the same accounts and checks, the token in an HttpOnly cookie
# (auth/session.py). A page of another origin cannot sign anyone in or out.
WEB_SESSION = [Depends(web_session.require_allowed_origin), *AUTH_ATTEMPT]


def _open_session(request: Request, response: Response, tokens: TokenService, user: User) -> WebSessionOut:
    issued = tokens.issue(user.id, user.token_version)
    web_session.set_session_cookie(response, get_settings(request), request, issued.token, issued.expires_at)
    return WebSessionOut(
        user=UserOut.model_validate(user),
        expires_at=issued.expires_at,
        csrf_token=tokens.csrf_token(issued.token),
    )


@router.post("/session", dependencies=WEB_SESSION, responses=errors(401, 403))
async def open_session(
    body: LoginRequest,
    request: Request,
    response: Response,
    db: DbDep,
    passwords: PasswordsDep,
    tokens: TokensDep,
) -> WebSessionOut:
    """Sign in for the web app: sets the `posegen_session` cookie (HttpOnly, SameSite=Strict) and
    returns the CSRF token its writes must send as `X-CSRF-Token`. No token in the body."""
    user = await _sign_in(body, db, passwords)
    return _open_session(request, response, tokens, user)


@router.post(
    "/session/register",
    status_code=status.HTTP_201_CREATED,
    dependencies=WEB_SESSION,
    responses=errors(403, 409),
)
async def register_session(
    body: RegisterRequest,
    request: Request,
    response: Response,
    session: Session,
    passwords: PasswordsDep,
    tokens: TokensDep,
    opened: AccountOpenedDep,
) -> WebSessionOut:
    """Create an account and sign it in for the web app (as `POST /session`)."""
    user = await _create_account(body, session, passwords, opened)
    return _open_session(request, response, tokens, user)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def close_session(user: CurrentUser, request: Request, session: Session) -> Response:
    """Sign out of the web app: every token of the account is revoked (as `/logout`) and the
    cookie cleared. A cookie-authenticated call needs the CSRF token like any write."""
    await service.logout(session, user)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    web_session.clear_session_cookie(response, get_settings(request), request)
    return response
