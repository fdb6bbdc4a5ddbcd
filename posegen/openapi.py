"""What routes declare about their errors: the error envelope (`ErrorResponse`) and `errors(...)`
for a route's own statuses. `posegen.openapi_document` builds the document from them.

Schema names are those of the models (STYLE.md): a multipart body is named by its route
(`form_body`) instead of FastAPI's `Body_<operation id>`; `openapi_document` applies the names.

Endpoint modules of every package import this one, so it imports nothing of theirs.
"""

from __future__ import annotations

from typing import Any, Literal

from posegen.kit.schemas import Schema

# What each status means in this API (API.md's code table).
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: (
        "`VALIDATION_ERROR`: the body, path, query or a header is invalid "
        "(`details.issues` lists every problem)"
    ),
    401: "`UNAUTHORIZED`: missing, invalid, expired or revoked token",
    402: "`INSUFFICIENT_CREDITS`: the balance is below the cost",
    403: "`FORBIDDEN` (not allowed) or `INSUFFICIENT_QUOTA` (daily quota used up)",
    404: "`NOT_FOUND`: no such id, or one that belongs to another user",
    409: "`CONFLICT` (the current state forbids it) or `IDEMPOTENCY_KEY_REUSED`",
    413: "`PAYLOAD_TOO_LARGE`: the body or upload is over its limit",
    415: "`UNSUPPORTED_MEDIA_TYPE`: the upload is not a supported image (judged by content)",
    429: "`RATE_LIMITED`: too many requests; see `Retry-After`",
    503: "`SERVICE_UNAVAILABLE`: a dependency cannot serve the request now; see `Retry-After`",
}


class ErrorInfo(Schema):
    code: str
    message: str
    status_code: int
    details: dict[str, Any] | None
    field: str | None


class ErrorResponse(Schema):
    """The body of every error response."""

    success: Literal[False]
    error: ErrorInfo
    timestamp: str
    request_id: str | None


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's own error statuses (those not derived from its dependencies)."""
    return {status: {"description": ERROR_DESCRIPTIONS[status]} for status in statuses}


def binary_body(*media_types: str, description: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a 200 that is not JSON (a file, a ZIP)."""
    schema = {"type": "string", "format": "binary"}
    return {
        200: {"description": description, "content": {media: {"schema": schema} for media in media_types}}
    }


# Operation key that carries a multipart body's schema name from the route to the document builder.
FORM_NAME = "x-posegen-form-name"


def form_body(name: str) -> dict[str, Any]:
    """`openapi_extra=` naming a multipart body's schema (FastAPI would call it `Body_<operation id>`).

    Routes whose forms are the same may share the name; forms that differ may not."""
    return {FORM_NAME: name}
