"""Context of the work in progress (the request being served), readable anywhere below it."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("posegen_request_id", default=None)
