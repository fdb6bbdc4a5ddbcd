"""Structured logging: one JSON object per line, carrying the request context.

Standard-library loggers (uvicorn, SQLAlchemy, Alembic) go through the same
processors, so every line of the process has one shape.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from posegen.config import LogSettings

# Query parameters that carry a credential: the WebSocket's `token` (a JWT) and the
# signature of a signed file URL. Their values never reach a log line.
_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|sig)=)[^&\s\"']*")


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _SECRET_QUERY.sub(r"\1[redacted]", value)
    if isinstance(value, dict):
        return {key: _redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact(item) for item in value)
    return value


def redact_secrets(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """Last line of defence: blank credential query parameters in every value of a line,
    whoever logged it (an exception message, a third-party library)."""
    return {key: _redact(value) for key, value in event_dict.items()}


class _NoWebSocketHandshakeLines(logging.Filter):
    """uvicorn logs every WebSocket handshake on `uvicorn.error` with the path and its query
    string — the `?token=<JWT>` — however `access_log` is set. posegen's request line
    (observability/request_context.py) records the same handshake by route template."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith('%s - "WebSocket %s"'))


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


# Tracebacks without local variables: locals hold request headers (tokens),
# passwords and prompts, none of which may reach a log.
_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)


def configure_logging(settings: LogSettings) -> None:
    """Send structlog and standard-library logging to stdout in one format."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if settings.json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _TRACEBACKS if settings.json_lines else structlog.processors.format_exc_info,
            redact_secrets,  # after the traceback is text, so its messages are covered too
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level.upper())
    # Our own middleware writes the access line with the request id and the route template;
    # uvicorn's would duplicate it with the raw path and query string.
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    uvicorn_error = logging.getLogger("uvicorn.error")
    if not any(isinstance(known, _NoWebSocketHandshakeLines) for known in uvicorn_error.filters):
        uvicorn_error.addFilter(_NoWebSocketHandshakeLines())

    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
