"""The request guard that refuses control characters in anything a client sends as text.

It is an application-wide dependency, so it runs for every route (present and
future) after FastAPI has parsed the body and before any other dependency
opens a session: a NUL in a login email, a search term, a path id or a key
deep inside a JSON body is a 400 `VALIDATION_ERROR` naming the field, never a
database error. JSON body strings may hold tab and line breaks here (a field
that must be a single line says so with `posegen.kit.text.Line`); query and
path parameters may not.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import HTTPConnection, Request

from posegen.errors import ValidationFailed
from posegen.kit.text import control_character, control_message


def _json_strings(document: Any) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string of a parsed JSON document (keys too) with where it sits.

    Walked with an explicit stack: a deeply nested body must not exhaust the call stack.
    """
    stack: list[tuple[tuple[str, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, dict):
            # A key is checked as the object's own text, so the error names the object, not the key.
            for key in value:
                yield path, str(key)
            # Pushed in reverse so the first bad field of the document is the one reported.
            stack.extend(reversed([((*path, str(key)), item) for key, item in value.items()]))
        elif isinstance(value, list):
            stack.extend(reversed([((*path, str(index)), item) for index, item in enumerate(value)]))


def _is_json(request: Request) -> bool:
    # The same test FastAPI applies before it parses a body as JSON.
    content_type = request.headers.get("content-type")
    if not content_type:
        return True
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _is_form(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded"))


def _refuse(location: str, field: str, character: str, *, multiline: bool) -> ValidationFailed:
    problem = control_message(character, multiline=multiline)
    issue = {"field": field, "location": location, "message": problem, "type": "control_character"}
    return ValidationFailed(f"{field}: {problem}", field=field, details={"issues": [issue]})


async def _body_strings(request: Request) -> list[tuple[str, str]]:
    """(field, text) for every string of the body FastAPI parsed, JSON or form."""
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return []
    if _is_form(request):
        # Already parsed (and cached on the request) by FastAPI for routes that take a form.
        form = await request.form()
        return [(name, value) for name, value in form.multi_items() if not isinstance(value, UploadFile)]
    if not _is_json(request) or not await request.body():
        return []
    try:
        document = await request.json()  # cached: FastAPI parsed it before solving dependencies
    except (ValueError, RecursionError):
        # Not JSON this guard can read (or nested past the parser's limit); the route answers for it.
        return []
    return [(".".join(path) or "body", text) for path, text in _json_strings(document)]


async def refuse_control_characters(connection: HTTPConnection) -> None:
    """Refuse any control character in path parameters, query parameters and the request body.

    WebSocket handshakes are left to their route: they read nothing but the
    auth message, and an HTTP error cannot answer a socket.
    """
    if not isinstance(connection, Request):
        return
    for name, value in connection.path_params.items():
        if isinstance(value, str) and (found := control_character(value, multiline=False)):
            raise _refuse("path", name, found, multiline=False)
    for name, value in connection.query_params.multi_items():
        if found := control_character(name + value, multiline=False):
            raise _refuse("query", name, found, multiline=False)
    for field, text in await _body_strings(connection):
        if found := control_character(text, multiline=True):
            raise _refuse("body", field, found, multiline=True)
