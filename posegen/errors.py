"""Domain errors and the handlers that turn every error into the API's envelope.

Nothing below `endpoints.py` raises `HTTPException`: code raises a
`PosegenError` subclass, and the handlers here write
`{"success": false, "error": {...}, "timestamp", "requestId"}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from posegen.kit.envelope import error_body
from posegen.observability.request_context import request_id_of

log = structlog.get_logger(__name__)


class PosegenError(Exception):
    """An error the client can act on; its code and status come from the subclass."""

    code: ClassVar[str] = "INTERNAL_ERROR"
    status: ClassVar[int] = 500

    def __init__(
        self,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details) if details else None
        self.field = field
        self.headers = dict(headers) if headers else None


class ValidationFailed(PosegenError):
    code = "VALIDATION_ERROR"
    status = 400


class Unauthorized(PosegenError):
    code = "UNAUTHORIZED"
    status = 401

    def __init__(self, message: str = "Authentication required") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(PosegenError):
    code = "FORBIDDEN"
    status = 403


class NotFound(PosegenError):
    code = "NOT_FOUND"
    status = 404


class Conflict(PosegenError):
    code = "CONFLICT"
    status = 409


class IdempotencyKeyReused(PosegenError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 409


class PayloadTooLarge(PosegenError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class ServiceUnavailable(PosegenError):
    code = "SERVICE_UNAVAILABLE"
    status = 503


# Status codes the framework raises itself (routing, body parsing, body limit).
_FRAMEWORK_CODES = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}
_FRAMEWORK_MESSAGES = {
    404: "Route not found",
    405: "Method not allowed",
    413: "Request body too large",
}


def error_response(
    request: Request,
    *,
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error envelope as a response."""
    body = error_body(
        status=status,
        code=code,
        message=message,
        request_id=request_id_of(request.scope),
        details=details,
        field=field,
    )
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


def _issue_field(loc: Sequence[int | str]) -> str | None:
    # Drop the parameter source ("body", "query", …) so the field reads as the client wrote it.
    parts = [str(part) for part in loc[1:]] if len(loc) > 1 else [str(part) for part in loc]
    return ".".join(parts) or None


async def _posegen_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PosegenError)
    return error_response(
        request,
        status=exc.status,
        code=exc.code,
        message=exc.message,
        details=exc.details,
        field=exc.field,
        headers=exc.headers,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = [
        {
            "field": _issue_field(error.get("loc", ())),
            "location": str(error["loc"][0]) if error.get("loc") else None,
            "message": str(error.get("msg", "invalid value")),
            "type": str(error.get("type", "value_error")),
        }
        for error in exc.errors()
    ]
    first = issues[0] if issues else {"field": None, "message": "invalid request"}
    if first.get("type") == "json_invalid":
        message = "Malformed JSON body"
    else:
        message = f"{first['field'] or 'request'}: {first['message']}"
    return error_response(
        request,
        status=400,
        code="VALIDATION_ERROR",
        message=message,
        details={"issues": issues},
        field=first["field"],
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = _FRAMEWORK_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    message = _FRAMEWORK_MESSAGES.get(status)
    if message is None:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(status).phrase
    return error_response(request, status=status, code=code, message=message, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    """Route every handled error through the envelope.

    Unhandled exceptions are caught by the request-context middleware, which
    logs the traceback and answers the generic 500 envelope.
    """
    app.add_exception_handler(PosegenError, _posegen_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
