"""HS256 access tokens: issue and verify, nothing else accepted."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jwt

from posegen.config import Environment, Settings
from posegen.errors import Unauthorized
from posegen.kit.time import utcnow

ALGORITHM = "HS256"
VERSION_CLAIM = "ver"
_REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud", VERSION_CLAIM]
SECRET_FILE = "jwt-secret"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    token_version: int
    expires_at: float  # Unix seconds: long-lived connections end when their token does


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


class TokenService:
    def __init__(self, *, secret: str, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._secret = secret
        self._issuer = issuer
        self._audience = audience
        self._ttl = timedelta(seconds=ttl_seconds)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenService:
        return cls(
            secret=resolve_secret(settings),
            issuer=settings.auth.issuer,
            audience=settings.auth.audience,
            ttl_seconds=settings.auth.token_ttl_seconds,
        )

    def issue(self, user_id: str, token_version: int) -> IssuedToken:
        now = utcnow().replace(microsecond=0)
        expires_at = now + self._ttl
        claims = {
            "sub": user_id,
            "iat": now,
            "exp": expires_at,
            "iss": self._issuer,
            "aud": self._audience,
            VERSION_CLAIM: token_version,
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), expires_at)

    def verify(self, token: str) -> TokenClaims:
        """The claims of a valid token; `Unauthorized` for anything else."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("Invalid token") from exc
        subject, version = claims["sub"], claims[VERSION_CLAIM]
        if not isinstance(subject, str) or not isinstance(version, int) or isinstance(version, bool):
            raise Unauthorized("Invalid token")
        return TokenClaims(user_id=subject, token_version=version, expires_at=float(claims["exp"]))

    def csrf_token(self, token: str) -> str:
        """The CSRF token that goes with a session token: derived from it with the same key (under
        its own label), so it needs no storage, changes with every sign-in and cannot be planted
        by another site that sets cookies."""
        digest = hmac.new(self._secret.encode(), b"csrf\x00" + token.encode(), hashlib.sha256)
        return digest.hexdigest()


def resolve_secret(settings: Settings) -> str:
    """The configured secret; outside production, one generated once into the data directory."""
    if settings.auth.jwt_secret is not None:
        return settings.auth.jwt_secret.get_secret_value()
    if settings.env is Environment.PRODUCTION:  # settings validation already refuses this
        raise RuntimeError("POSEGEN_AUTH_JWT_SECRET is required in production")
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside, then linked into place: two processes starting together
        # agree on one secret and never read a half-written file.
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".jwt-secret-")
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48))
            os.link(temp_name, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp_name)
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 32:
        raise RuntimeError(f"{path} holds a secret shorter than 32 characters")
    return secret
