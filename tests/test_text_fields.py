"""Control characters in any text a client sends: 400 `VALIDATION_ERROR` naming the field, nothing stored.

The walk reads the app's own OpenAPI, so a route or field added later is covered
without touching this file: every string in every JSON request body, every query
parameter and every path parameter gets a NUL, another C0 control and a lone
surrogate, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from posegen.auth.models import Role, User
from posegen.config import Settings
from posegen.db import Database
from posegen.kit.text import JSON_SCHEMA_KEY
from posegen.models import metadata
from posegen.projects.models import Project
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import (
    DEFAULT_PASSWORD,
    create_category,
    create_pose,
    create_project,
    create_user,
)
from tests.generation.helpers import scene

P = "/api/apps/pose-generator"
BAD_URL_VALUES = {"NUL": "ab\x00cd", "ESC": "ab\x1bcd", "C1": "ab\x85cd"}
# A JSON body can also carry a lone surrogate (a URL cannot: it is decoded as UTF-8 with replacement).
BAD_VALUES = {**BAD_URL_VALUES, "surrogate": "ab\ud800cd"}
JsonSchema = dict[str, Any]


@dataclass
class Operation:
    method: str
    path: str
    spec: dict[str, Any]


@dataclass
class World:
    headers: dict[str, str]
    ids: dict[str, str]


def operations(app: FastAPI) -> Iterator[Operation]:
    for path, methods in app.openapi()["paths"].items():
        for method, spec in methods.items():
            yield Operation(method.upper(), path, spec)


def resolver(app: FastAPI) -> Any:
    components = app.openapi()["components"]["schemas"]

    def resolve(schema: JsonSchema) -> JsonSchema:
        while "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    return resolve


def string_fields(
    schema: JsonSchema, resolve: Any, path: tuple[str, ...] = (), around: tuple[JsonSchema, ...] = ()
) -> Iterator[tuple[tuple[str, ...], tuple[JsonSchema, ...]]]:
    """Where a string can sit in a body of `schema` (array items as index 0), with the schemas
    that describe it (the string's own and any `anyOf` around it)."""
    schema = resolve(schema)
    for option in schema.get("anyOf", []):
        yield from string_fields(option, resolve, path, (*around, schema))
    kind = schema.get("type")
    if kind == "string" and schema.get("format") != "binary":
        yield path, (*around, schema)
    elif kind == "object":
        for name, item in schema.get("properties", {}).items():
            yield from string_fields(item, resolve, (*path, name))
    elif kind == "array" and "items" in schema:
        yield from string_fields(schema["items"], resolve, (*path, "0"))


def sample(schema: JsonSchema, resolve: Any) -> Any:
    """A plain value of `schema`: only the required members of objects, so bodies stay small."""
    schema = resolve(schema)
    options = [resolve(option) for option in schema.get("anyOf", []) if resolve(option).get("type") != "null"]
    if options:
        return sample(options[0], resolve)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: sample(properties[name], resolve) for name in schema.get("required", [])}
    if kind == "array":
        return [sample(schema["items"], resolve)] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 0.5
    if kind == "boolean":
        return False
    if schema.get("format") == "email":
        return "walker@example.com"
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    if schema.get("pattern", "").startswith("^#"):
        return "#112233"
    if schema.get("pattern"):
        return "sample"
    return "standing pose sample text"[: schema.get("maxLength", 100)]


def with_value(body: Any, path: tuple[str, ...], value: str, schema: JsonSchema, resolve: Any) -> Any:
    """`body` with `value` at `path`, creating the objects and lists on the way."""
    if not path:
        return value
    schema = resolve(schema)
    for option in schema.get("anyOf", []):
        option = resolve(option)
        if option.get("type") in ("object", "array"):
            schema = option
    head, rest = path[0], path[1:]
    if schema.get("type") == "array":
        items = list(body) if isinstance(body, list) and body else [sample(schema["items"], resolve)]
        items[0] = with_value(items[0], rest, value, schema["items"], resolve)
        return items
    current = dict(body) if isinstance(body, dict) else {}
    child_schema = schema.get("properties", {})[head]
    child = current.get(head, sample(child_schema, resolve) if rest else None)
    current[head] = with_value(child, rest, value, child_schema, resolve)
    return current


def url(operation: Operation, world: World, bad: tuple[str, str] | None = None) -> str:
    path = operation.path
    for parameter in operation.spec.get("parameters", []):
        if parameter["in"] != "path":
            continue
        name = parameter["name"]
        value = bad[1] if bad and bad[0] == name else world.ids.get(name, "missing-id")
        path = path.replace("{" + name + "}", quote(value, safe="/"))
    return path


async def row_counts(db: Database) -> dict[str, int]:
    async with db.session(write=False) as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


def assert_refused(response: httpx.Response, field: str, what: str) -> None:
    assert response.status_code == 400, (what, response.status_code, response.text)
    body = response.json()
    assert body["success"] is False, what
    assert body["error"]["code"] == "VALIDATION_ERROR", (what, body)
    assert body["error"]["field"] == field, (what, body)
    assert "control characters" in body["error"]["message"], (what, body)


@pytest.fixture
async def world(db: Database, settings: Settings) -> World:
    admin = await create_user(db, role=Role.ADMIN)
    category = await create_category(db, "walk")
    pose = await create_pose(db, category, "Standing Walk")
    project = await create_project(db, admin)
    ids = {
        "project_id": project.id,
        "pose_id": pose.id,
        "category_id": category.id,
        "user_id": admin.id,
        "key": "some/file.png",
    }
    return World(bearer(token_for(settings, admin)), ids)


async def test_every_text_field_of_every_operation_refuses_control_characters(
    app: FastAPI, client: httpx.AsyncClient, db: Database, world: World
) -> None:
    resolve = resolver(app)
    before = await row_counts(db)
    checked: dict[str, int] = {"body": 0, "query": 0, "path": 0}
    for operation in operations(app):
        content = operation.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        if schema is not None:
            for field_path, _ in string_fields(schema, resolve):
                field = ".".join(field_path)
                for label, value in BAD_VALUES.items():
                    body = with_value(sample(schema, resolve), field_path, value, schema, resolve)
                    what = f"{operation.method} {operation.path} body {field} {label}"
                    # Encoded here: json.dumps escapes a lone surrogate as JSON allows ("\\ud800").
                    response = await client.request(
                        operation.method,
                        url(operation, world),
                        content=json.dumps(body).encode(),
                        headers={**world.headers, "Content-Type": "application/json"},
                    )
                    assert_refused(response, field, what)
                    checked["body"] += 1
        for parameter in operation.spec.get("parameters", []):
            name, where = parameter["name"], parameter["in"]
            if where not in ("query", "path"):
                continue
            for label, value in BAD_URL_VALUES.items():
                what = f"{operation.method} {operation.path} {where} {name} {label}"
                if where == "query":
                    target = url(operation, world)
                    params = {name: value}
                else:
                    target, params = url(operation, world, (name, value)), {}
                response = await client.request(
                    operation.method, target, params=params, headers=world.headers
                )
                assert_refused(response, name, what)
                checked[where] += 1
    # The walk found the API's text: dozens of body fields, the list filters, every id in a path.
    assert checked["body"] >= 60 * len(BAD_VALUES), checked
    assert checked["query"] >= 20 * len(BAD_URL_VALUES), checked
    assert checked["path"] >= 25 * len(BAD_URL_VALUES), checked
    assert await row_counts(db) == before


async def test_every_string_of_a_request_body_declares_its_text_policy(app: FastAPI) -> None:
    # The request guard refuses controls everywhere; whether tab and line breaks are allowed is a
    # per-field decision, so a new text field without `LINE` or `PARAGRAPH` fails here.
    resolve = resolver(app)
    undeclared = []
    for operation in operations(app):
        schema = operation.spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        if "schema" not in schema:
            continue
        for field_path, described_by in string_fields(schema["schema"], resolve):
            if not any(JSON_SCHEMA_KEY in s or "enum" in s or "format" in s for s in described_by):
                undeclared.append(f"{operation.method} {operation.path} {'.'.join(field_path)}")
    assert undeclared == []


async def test_a_text_field_of_a_form_refuses_control_characters(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    before = await row_counts(db)
    response = await client.post(
        f"{P}/uploads",
        files={"file": ("a.png", b"\x89PNG\r\n\x1a\n", "image/png")},
        data={"note": "ab\x00cd"},
        headers=world.headers,
    )
    assert_refused(response, "note", "form field")
    assert await row_counts(db) == before


# --- the inputs the issue found answering 500 on PostgreSQL -----------------------------------


async def test_the_reported_inputs_are_400_and_store_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, poses=1)
    category_id = world.poses[0].category_id
    before = await row_counts(db)
    cases: list[tuple[str, str, dict[str, Any] | None, dict[str, str] | None, str]] = [
        (
            "POST",
            "/api/auth/login",
            {"email": "a\x00@example.com", "password": DEFAULT_PASSWORD},
            None,
            "email",
        ),
        (
            "POST",
            "/api/auth/register",
            {"email": "new@example.com", "password": "long enough pw", "name": "Ad\x00a"},
            None,
            "name",
        ),
        ("POST", f"{P}/projects", {"projectName": "Sh\x00oot"}, None, "projectName"),
        ("POST", f"{P}/projects", {"projectName": "Shoot", "description": "a\x00b"}, None, "description"),
        (
            "POST",
            f"{P}/projects",
            {"projectName": "Shoot", "avatarAttributes": {"style": "x\x00y"}},
            None,
            "avatarAttributes.style",
        ),
        (
            "PUT",
            f"{P}/projects/{world.project.id}",
            {"avatarAttributes": {"style": "x\x00y"}},
            None,
            "avatarAttributes.style",
        ),
        (
            "POST",
            f"{P}/requests",
            {"poseName": "Hands\x00 up", "description": "Both hands raised above the head."},
            None,
            "poseName",
        ),
        (
            "POST",
            f"{P}/generate",
            {
                "projectId": world.project.id,
                "generationType": "TEXT_DESCRIPTION",
                "textPrompt": "stand\x00ing",
            },
            None,
            "textPrompt",
        ),
        ("GET", f"{P}/library", None, {"search": "ab\x00cd"}, "search"),
        ("GET", f"{P}/library", None, {"category": "\x00"}, "category"),
        ("GET", f"{P}/library", None, {"category": category_id + "\x00"}, "category"),
    ]
    for method, path, body, params, field in cases:
        response = await client.request(method, path, json=body, params=params, headers=world.headers)
        assert_refused(response, field, f"{method} {path} {field}")
    assert await row_counts(db) == before
    # The project was not poisoned: it still takes generations.
    response = await client.post(
        f"{P}/generate",
        json={
            "projectId": world.project.id,
            "generationType": "TEXT_DESCRIPTION",
            "textPrompt": "standing pose",
            "variationCount": 1,
        },
        headers=world.headers,
    )
    assert response.status_code == 202, response.text
    async with db.session(write=False) as session:
        project = await session.get(Project, world.project.id)
        users = await session.scalar(select(func.count()).select_from(User))
    assert project is not None and project.avatar_attributes == {"gender": "female", "style": "casual"}
    assert users == 1


async def test_single_line_fields_refuse_line_breaks_and_paragraphs_keep_them(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings, poses=0)
    refused = await client.post(f"{P}/projects", json={"projectName": "Two\nlines"}, headers=world.headers)
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert (error["code"], error["field"]) == ("VALIDATION_ERROR", "projectName")
    assert "single line" in error["message"]
    tabbed = await client.post(
        f"{P}/projects",
        json={"projectName": "x", "avatarAttributes": {"style": "a\tb"}},
        headers=world.headers,
    )
    assert tabbed.status_code == 400
    assert tabbed.json()["error"]["field"] == "avatarAttributes.style"
    accepted = await client.post(
        f"{P}/projects",
        json={"projectName": "Shoot", "description": "First line\nsecond line\twith a tab"},
        headers=world.headers,
    )
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["project"]["description"] == "First line\nsecond line\twith a tab"
    login = await client.post(
        "/api/auth/login", json={"email": world.user.email, "password": DEFAULT_PASSWORD}
    )
    assert login.status_code == 200
