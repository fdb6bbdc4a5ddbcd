"""Account request and response bodies."""

from __future__ import annotations

from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from posegen.kit.schemas import Schema, UtcDateTime

Password = Annotated[str, Field(min_length=10, max_length=128)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class RegisterRequest(Schema):
    email: Annotated[EmailStr, Field(max_length=320)]
    password: Password
    name: Name


class LoginRequest(Schema):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: Annotated[str, Field(min_length=1, max_length=128)]


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
