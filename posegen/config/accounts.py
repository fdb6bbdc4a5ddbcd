"""Accounts and money: tokens, the bootstrap admin, prices and credits."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, SecretStr, model_validator


class AuthSettings(BaseModel):
    jwt_secret: SecretStr | None = Field(
        None,
        description=(
            "HMAC key for access tokens (at least 32 characters). Required in production; "
            "elsewhere generated once and kept in `<data dir>/jwt-secret`."
        ),
    )
    token_ttl_seconds: int = Field(
        86400, ge=60, le=30 * 86400, description="Lifetime of an access token in seconds."
    )
    issuer: str = Field("posegen", description="`iss` claim written into and required of tokens.")
    audience: str = Field("posegen-api", description="`aud` claim written into and required of tokens.")


class BootstrapSettings(BaseModel):
    admin_email: str | None = Field(
        None, description="Email of an admin account created at start-up when absent."
    )
    admin_password: SecretStr | None = Field(
        None, description="Password for the bootstrap admin (10–128 characters)."
    )

    @model_validator(mode="after")
    def _both_or_neither(self) -> Self:
        if (self.admin_email is None) != (self.admin_password is None):
            raise ValueError(
                "set both POSEGEN_BOOTSTRAP_ADMIN_EMAIL and POSEGEN_BOOTSTRAP_ADMIN_PASSWORD, or neither"
            )
        if self.admin_password is not None and not 10 <= len(self.admin_password.get_secret_value()) <= 128:
            raise ValueError("POSEGEN_BOOTSTRAP_ADMIN_PASSWORD must be 10–128 characters")
        return self


class PricingSettings(BaseModel):
    draft: int = Field(15, ge=0, le=100_000, description="Credits per pose at quality `draft`.")
    standard: int = Field(30, ge=0, le=100_000, description="Credits per pose at quality `standard`.")
    pro: int = Field(40, ge=0, le=100_000, description="Credits per pose at quality `pro`.")
    background_surcharge: int = Field(
        10, ge=0, le=100_000, description="Credits added per pose when the background changer is on."
    )
    background_change: int = Field(
        10, ge=0, le=100_000, description="Credits for changing the background of one finished pose."
    )


class CreditsSettings(BaseModel):
    signup_bonus: int = Field(
        0,
        ge=0,
        le=1_000_000,
        description="Credits a self-registered account receives once, through the ledger (kind `bonus`).",
    )
