"""Context of the work in progress (the request being served), readable anywhere below it."""

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("posegen_request_id", default=None)


def request_id_of(scope: Mapping[str, Any]) -> str | None:
    """The request id of this request or WebSocket connection (an ASGI scope), set by the
    request-context middleware (observability/request_context.py)."""
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else None
