"""Account request and response bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from posegen.kit.schemas import Schema, UtcDateTime
from posegen.kit.text import LINE, PARAGRAPH

Password = Annotated[str, Field(min_length=10, max_length=128), LINE]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), LINE]


class RegisterRequest(Schema):
    email: Annotated[EmailStr, Field(max_length=320), LINE]
    password: Password
    name: Name


class LoginRequest(Schema):
    email: Annotated[str, Field(min_length=1, max_length=320), LINE]
    # Checked against the stored hash only: a password registered before tabs were refused still works.
    password: Annotated[str, Field(min_length=1, max_length=128), PARAGRAPH]


class UserOut(Schema):
    id: str
    email: str
    name: str
    role: str
    created_at: UtcDateTime


class SessionOut(Schema):
    user: UserOut
    token: str
    expires_at: UtcDateTime


class MeOut(Schema):
    user: UserOut


class WebSessionOut(Schema):
    """A browser session: the token stays in the `HttpOnly` cookie, never in the body."""

    user: UserOut
    expires_at: UtcDateTime
    csrf_token: str
