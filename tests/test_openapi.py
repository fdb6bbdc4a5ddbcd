"""The OpenAPI document tells the truth about errors: the real envelope, the statuses really sent."""

from __future__ import annotations

import enum
import json
import re
import typing
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, TypeAdapter

from posegen.app import create_app
from posegen.db import Database
from posegen.kit.schemas import Schema
from posegen.openapi import ErrorResponse
from tests.fixtures.app import make_settings

APP = create_app(make_settings("sqlite:///unused.db", Path("unused")), embed_worker=False)
DOCUMENT = APP.openapi()
P = "/api/apps/pose-generator"
PUBLIC = {
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    # The web app's sign-in and sign-up (they set the session cookie).
    ("POST", "/api/auth/session"),
    ("POST", "/api/auth/session/register"),
    ("GET", f"{P}/health"),
    ("GET", f"{P}/files/{{key}}"),
    ("GET", f"{P}/export-formats"),
    ("GET", f"{P}/engines"),
}
OPERATIONS = [
    (method.upper(), path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]


def statuses(method: str, path: str) -> set[int]:
    return {int(code) for code in DOCUMENT["paths"][path][method.lower()]["responses"]}


def test_no_422_and_no_validation_error_schema() -> None:
    text = json.dumps(DOCUMENT)
    assert '"422"' not in text
    assert "HTTPValidationError" not in text
    assert "ValidationError" not in DOCUMENT["components"]["schemas"]


def test_every_error_response_is_the_envelope() -> None:
    assert len(OPERATIONS) >= 60
    for method, path, operation in OPERATIONS:
        for code, response in operation["responses"].items():
            if int(code) < 400 or (path == f"{P}/health" and code == "503"):
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, code)
    envelope = DOCUMENT["components"]["schemas"]["ErrorResponse"]
    assert set(envelope["required"]) == {"success", "error", "timestamp", "requestId"}
    error = DOCUMENT["components"]["schemas"]["ErrorInfo"]
    assert set(error["properties"]) == {"code", "message", "statusCode", "details", "field"}


def test_statuses_follow_from_what_each_route_is() -> None:
    for method, path, operation in OPERATIONS:
        documented = statuses(method, path)
        if (method, path) not in PUBLIC:
            assert {401, 503} <= documented, (method, path)
        if path.startswith(("/api/admin", f"{P}/admin", f"{P}/recovery")):
            assert 403 in documented, (method, path)
        if "{" in path:
            assert {400, 404} <= documented, (method, path)
        if "requestBody" in operation:
            assert {400, 413} <= documented, (method, path)
        if operation.get("parameters") and any(p["in"] == "query" for p in operation["parameters"]):
            assert 400 in documented, (method, path)


def test_route_specific_statuses() -> None:
    assert {400, 401, 402, 403, 404, 409, 413, 503} <= statuses("POST", f"{P}/generate")
    assert {402, 403, 409} <= statuses("POST", f"{P}/generations/{{generation_id}}/retry")
    assert {413, 415} <= statuses("POST", f"{P}/uploads")
    assert {413, 415} <= statuses("POST", f"{P}/projects/{{project_id}}/avatar")
    assert {403, 404} <= statuses("GET", f"{P}/files/{{key}}")
    assert 409 in statuses("POST", "/api/auth/register")
    assert {401, 403} <= statuses("POST", "/api/auth/login")
    assert 409 in statuses("DELETE", f"{P}/projects/{{project_id}}")
    assert 415 not in statuses("POST", f"{P}/generate")
    assert 401 not in statuses("GET", f"{P}/health")


def test_non_json_answers_document_their_media_types() -> None:
    def media(path: str) -> set[str]:
        return set(DOCUMENT["paths"][path]["get"]["responses"]["200"]["content"])

    assert media(f"{P}/generations/{{generation_id}}/export-zip") == {"application/zip"}
    assert media(f"{P}/generations/{{generation_id}}/events") == {"text/event-stream"}
    assert media(f"{P}/files/{{key}}") == {"image/*", "application/octet-stream"}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "some-id", path)


@pytest.mark.parametrize(
    ("method", "path"), [(method, path) for method, path, _ in OPERATIONS if (method, path) not in PUBLIC]
)
async def test_an_anonymous_call_answers_a_documented_envelope(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, _concrete(path))
    assert response.status_code == 401
    assert 401 in statuses(method, path)
    # The body is what the document says: the wire rules of the envelope's own schema.
    envelope = TypeAdapter(ErrorResponse).validate_python(response.json())
    assert envelope.error.status_code == 401


async def test_a_validation_error_matches_the_documented_envelope(
    client: httpx.AsyncClient, db: Database
) -> None:
    response = await client.post("/api/auth/login", json={"email": 5})
    assert response.status_code == 400
    envelope = TypeAdapter(ErrorResponse).validate_python(response.json())
    assert envelope.error.details is not None and envelope.error.details["issues"]


# --- request bodies: the types JSON can only write as strings still arrive ----------------------


def _types(annotation: Any) -> typing.Iterator[Any]:
    args = typing.get_args(annotation)
    if args:
        for arg in args:
            yield from _types(arg)
    else:
        yield annotation


def _body_models() -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()

    def walk(model: type[BaseModel]) -> None:
        if model in found:
            return
        found.add(model)
        for field in model.model_fields.values():
            for kind in _types(field.annotation):
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    walk(kind)

    for context in iter_route_contexts(APP.routes):
        if not isinstance(context.original_route, APIRoute):
            continue
        for param in context.dependant.body_params:
            for kind in _types(param.field_info.annotation):
                if isinstance(kind, type) and issubclass(kind, Schema):
                    walk(kind)
    return found


def test_enum_and_datetime_fields_of_bodies_read_json_strings() -> None:
    """Bodies are strict; an enum or date-time field must still take its JSON string form."""
    checked = 0
    for model in _body_models():
        for field in model.model_fields.values():
            for kind in _types(field.annotation):
                if isinstance(kind, type) and issubclass(kind, enum.Enum):
                    sample: str = next(iter(kind)).value
                elif kind is datetime:
                    sample = "2026-01-01T00:00:00Z"
                else:
                    continue
                annotation: Any = field.annotation
                if field.metadata:
                    annotation = typing.Annotated[annotation, *field.metadata]
                adapter: TypeAdapter[Any] = TypeAdapter(annotation, config=ConfigDict(strict=True))
                adapter.validate_python(sample)
                checked += 1
                # And the strictness around it holds: a number is not a string form.
                with pytest.raises(ValueError, match="validation error"):
                    adapter.validate_python(1)
    assert checked >= 10
