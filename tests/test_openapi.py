"""The OpenAPI document tells the truth: every answer's body, the real error envelope, the statuses
really sent, and schema names as STYLE.md writes them."""

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
from fastapi import FastAPI, File, UploadFile
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, ConfigDict, TypeAdapter

from posegen.app import create_app
from posegen.db import Database
from posegen.kit.schemas import Schema, UtcDateTime
from posegen.openapi import ErrorResponse
from posegen.openapi_document import build_openapi
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


# --- answers: every success status says what comes back ------------------------------------------

# What the non-JSON answers are: stored files, ZIPs, event streams.
STREAM_MEDIA_TYPES = {"image/*", "application/octet-stream", "application/zip", "text/event-stream"}
# A component name as STYLE.md writes model names (`X`, `XCreate`, `XUpdate`, …): one CamelCase
# word, so no `Body_<operation id>`, no `X-Input`/`X-Output` pair, no `module__path__X` double.
SCHEMA_NAME = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*")
GENERATED_PREFIXES = ("Body", "Response", "Dict", "List", "Mapping", "Any")


def _component(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    ref = schema.get("$ref", "")
    if not ref.startswith("#/components/schemas/"):
        return None
    found: dict[str, Any] | None = document["components"]["schemas"].get(ref.rsplit("/", 1)[1])
    return found


def undocumented_answers(document: dict[str, Any]) -> list[str]:
    """Success answers whose body the document does not describe, one line each."""
    problems = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
            if not successes:
                problems.append(f"{where}: no success status")
            for code, response in successes.items():
                content = response.get("content", {})
                if code == "204":
                    if content:
                        problems.append(f"{where} {code}: a body on 204")
                    continue
                if not content:
                    problems.append(f"{where} {code}: no body documented")
                for media, body in content.items():
                    schema = body.get("schema") or {}
                    if media == "application/json":
                        # A named model with its fields, never `{}` or a bare `object`.
                        model = _component(document, schema)
                        if model is None or not model.get("properties"):
                            problems.append(f"{where} {code}: JSON without a model ({schema})")
                    elif media not in STREAM_MEDIA_TYPES or schema.get("type") != "string":
                        problems.append(f"{where} {code}: {media} {schema}")
    return problems


def badly_named_schemas(document: dict[str, Any]) -> list[str]:
    """Component names that are not model names as STYLE.md writes them."""
    return [
        name
        for name, schema in document["components"]["schemas"].items()
        if not SCHEMA_NAME.fullmatch(name)
        or name.startswith(GENERATED_PREFIXES)
        or schema.get("title", name) != name
    ]


async def test_every_answer_documents_its_body_and_every_schema_name_is_a_model_name(
    client: httpx.AsyncClient,
) -> None:
    served = (await client.get("/openapi.json")).json()
    assert len(served["paths"]) >= 50
    assert undocumented_answers(served) == []
    assert badly_named_schemas(served) == []


class Tier(Schema):
    """A body that is also part of an answer, serialised otherwise than read (FastAPI would split it)."""

    expires_at: UtcDateTime | None = None


class Holder(Schema):
    tier: Tier


def test_the_answer_and_name_checks_find_what_they_look_for() -> None:
    """A route returning a dict, a multipart body FastAPI names, a model on both sides: all flagged."""

    app = FastAPI()

    @app.get("/loose")
    async def loose() -> dict[str, Any]:
        return {}

    @app.post("/upload")
    async def upload(file: typing.Annotated[UploadFile, File()]) -> Holder:
        raise NotImplementedError

    @app.post("/tier")
    async def tier(body: Tier) -> Holder:
        raise NotImplementedError

    document = build_openapi(app)
    assert [line.split(":")[0] for line in undocumented_answers(document)] == ["GET /loose 200"]
    # `Tier` is a body and part of an answer, and stays one schema.
    assert badly_named_schemas(document) == ["Body_upload_upload_post"]
    assert {"Tier", "Holder"} <= set(document["components"]["schemas"])

    names = ["Tier-Input", "posegen__admin__schemas__Tier", "Dict_str_Any_", "Response_Loose", "TierUpdate"]
    generated = {"components": {"schemas": {name: {"title": name} for name in names}}}
    assert badly_named_schemas(generated) == names[:-1]
    assert badly_named_schemas({"components": {"schemas": {"Tier": {"title": "Other"}}}}) == ["Tier"]


def test_schemas_that_are_bodies_and_answers_keep_one_name() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    assert "UnlimitedTier" in schemas
    admin_user = schemas["AdminUserOut"]["properties"]
    assert admin_user["unlimited"] == {"$ref": "#/components/schemas/UnlimitedTier"}
    assert admin_user["createdAt"]["format"] == "date-time"
    for path in (f"{P}/uploads", f"{P}/projects/{{project_id}}/avatar"):
        body = DOCUMENT["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
        assert body["schema"] == {"$ref": "#/components/schemas/ImageUpload"}


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
