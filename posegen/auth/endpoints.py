"""`/api/auth`: register, login, logout, me."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response, status

from posegen.auth import service
from posegen.auth.dependencies import CurrentUser, PasswordHasher, Tokens
from posegen.auth.schemas import LoginRequest, MeOut, RegisterRequest, SessionOut, UserOut
from posegen.db import DatabaseDep, Session, UnitOfWorkRoute
from posegen.openapi import errors
from posegen.ratelimit.http import limit_auth_attempts

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=UnitOfWorkRoute)


# Attempts per client address, counted before anything else happens (429 when over).
AUTH_ATTEMPT = [Depends(limit_auth_attempts)]


@router.post(
    "/register", status_code=status.HTTP_201_CREATED, dependencies=AUTH_ATTEMPT, responses=errors(409)
)
async def register(
    body: RegisterRequest, request: Request, session: Session, passwords: PasswordHasher, tokens: Tokens
) -> SessionOut:
    """Create an account and return a token for it. The email is unique in any letter case.
    The account starts with the configured sign-up bonus (`POSEGEN_CREDITS_SIGNUP_BONUS`)."""
    user = await service.register(
        session,
        passwords,
        email=body.email,
        password=body.password,
        name=body.name,
        signup_bonus=request.app.state.settings.credits.signup_bonus,
    )
    issued = tokens.issue(user.id, user.token_version)
    return SessionOut(user=UserOut.model_validate(user), token=issued.token, expires_at=issued.expires_at)


@router.post("/login", dependencies=AUTH_ATTEMPT, responses=errors(401, 403))
async def login(body: LoginRequest, db: DatabaseDep, passwords: PasswordHasher, tokens: Tokens) -> SessionOut:
    """Exchange email and password for a token. Unknown email and wrong password answer alike."""
    # Argon2 runs with no transaction open and a refused login writes nothing: the account is
    # read in a read transaction, the password checked after it ended, and only a re-hash (new
    # hashing parameters) is written, in a short write transaction of its own.
    found = await db.run(lambda session: service.find_account(session, body.email), write=False)
    user, new_hash = await service.check_password(passwords, found, body.password)
    if new_hash is not None:
        await db.run(lambda session: service.store_rehash(session, user, new_hash))
    issued = tokens.issue(user.id, user.token_version)
    return SessionOut(user=UserOut.model_validate(user), token=issued.token, expires_at=issued.expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(user: CurrentUser, session: Session) -> Response:
    """Revoke every token of this account issued so far."""
    await service.logout(session, user)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def me(user: CurrentUser) -> MeOut:
    """The calling account."""
    return MeOut(user=UserOut.model_validate(user))
