"""The JSON body of every error response."""

from collections.abc import Mapping
from typing import Any

from posegen.kit.time import isoformat_z, utcnow


def error_body(
    *,
    status: int,
    code: str,
    message: str,
    request_id: str | None,
    details: Mapping[str, Any] | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    """`{"success": false, "error": {...}, "timestamp", "requestId"}`."""
    return {
        "success": False,
        "error": {
            "code": code,
            "message": message,
            "statusCode": status,
            "details": dict(details) if details else None,
            "field": field,
        },
        "timestamp": isoformat_z(utcnow()),
        "requestId": request_id,
    }
