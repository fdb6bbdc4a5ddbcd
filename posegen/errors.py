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

from posegen.kit.context import request_id_of
from posegen.kit.envelope import error_body
from posegen.kit.schemas import FieldError

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
    """The error envelope as a response; every 400 lists its problems in `details.issues`."""
    if status == 400 and not (details and "issues" in details):
        issue = {"field": field, "location": None, "message": message, "type": "invalid"}
        details = {**(details or {}), "issues": [issue]}
    body = error_body(
        status=status,
        code=code,
        message=message,
        request_id=request_id_of(request.scope),
        details=details,
        field=field,
    )
    return JSONResponse(body, status_code=status, headers=dict(headers) if headers else None)


# Pydantic's default wording, rewritten for people; `{…}` are the error's context values.
_HUMAN_MESSAGES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a known field (field names are camelCase)",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "string_too_short": "must be at least {min_length} characters long",
    "string_too_long": "must be at most {max_length} characters long",
    "string_pattern_mismatch": "has an invalid format",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "greater_than": "must be greater than {gt}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
    "datetime_type": "must be a date-time (ISO 8601, e.g. 2026-01-01T00:00:00Z)",
    "datetime_parsing": "must be a date-time (ISO 8601, e.g. 2026-01-01T00:00:00Z)",
    "datetime_from_date_parsing": "must be a date-time (ISO 8601, e.g. 2026-01-01T00:00:00Z)",
    "timezone_aware": "must carry a time zone (e.g. Z)",
    "url_parsing": "must be a URL",
}
# What pydantic puts before a validator's own message.
_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def _issue_field(loc: Sequence[int | str]) -> str | None:
    # Drop the parameter source ("body", "query", …) so the field reads as the client wrote it.
    return ".".join(str(part) for part in loc[1:]) or None


def _human_message(error: Mapping[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, FieldError):
        return cause.message
    if isinstance(cause, Exception) and error.get("type") in ("value_error", "assertion_error"):
        return str(cause)
    kind = str(error.get("type", ""))
    template = _HUMAN_MESSAGES.get(kind)
    if template is not None:
        if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
            return "must not be empty"
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            pass
    message = str(error.get("msg") or "is not valid")
    for prefix in _PYDANTIC_PREFIXES:
        message = message.removeprefix(prefix)
    return message


def _issue(error: Mapping[str, Any]) -> dict[str, Any]:
    loc: Sequence[int | str] = error.get("loc", ())
    field = _issue_field(loc)
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        # A cross-field rule: the model validator's error sits at the model, the fault in one field.
        field = f"{field}.{cause.field}" if field else cause.field
    message = _human_message(error)
    if field is None and loc:
        # The whole body (or query) is at fault: missing, not an object.
        message = f"request {loc[0]} {message}"
    return {
        "field": field,
        "location": str(loc[0]) if loc else None,
        "message": message,
        "type": str(error.get("type", "value_error")),
    }


def _headline(field: str | None, message: str) -> str:
    """`field: message`, unless the message already starts with the field's name."""
    if field is None:
        return message[:1].upper() + message[1:]
    if message.startswith(field.rsplit(".", 1)[-1]):
        return message
    return f"{field}: {message}"


def _json_position(document: object, offset: int) -> tuple[int, int]:
    text = document if isinstance(document, str) else ""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _malformed_json(request: Request, exc: RequestValidationError, error: Mapping[str, Any]) -> JSONResponse:
    loc = error.get("loc", ())
    offset = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
    line, column = _json_position(exc.body, offset)
    reason = str((error.get("ctx") or {}).get("error") or "not valid JSON")
    where = f"{reason} at line {line}, column {column}"
    return error_response(
        request,
        status=400,
        code="VALIDATION_ERROR",
        message=f"Malformed JSON body: {where}",
        details={
            "issues": [{"field": None, "location": "body", "message": where, "type": "json_invalid"}],
            "line": line,
            "column": column,
        },
        field=None,
    )


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
    errors = list(exc.errors())
    if errors and errors[0].get("type") == "json_invalid":
        return _malformed_json(request, exc, errors[0])
    issues = [_issue(error) for error in errors] or [
        {"field": None, "location": None, "message": "is not valid", "type": "value_error"}
    ]
    first = issues[0]
    return error_response(
        request,
        status=400,
        code="VALIDATION_ERROR",
        message=_headline(first["field"], first["message"]),
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
