"""Every error, whatever raised it, answers the same envelope with the request id."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from posegen.config import Settings
from posegen.db import Database
from tests.fixtures.app import open_client


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["statusCode"] == status
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["timestamp"].endswith("Z")
    assert body["requestId"] == response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    return error


@pytest.fixture
async def failing_client(app: FastAPI, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async def explode() -> None:
        raise RuntimeError("secret internal detail")

    app.add_api_route("/api/test-explode", explode, methods=["GET"])
    async for client in open_client(app):
        yield client


async def test_unknown_route(client: httpx.AsyncClient) -> None:
    error = assert_envelope(await client.get("/api/does-not-exist"), 404, "NOT_FOUND")
    assert error["message"] == "Route not found"


async def test_wrong_method(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/auth/login")
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response.headers["allow"]


async def test_malformed_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b'{"email": "a@b.c", "password": ',
        headers={"content-type": "application/json"},
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    # No byte offset in `field`: the position is told in words and numbers.
    assert error["field"] is None
    assert error["message"] == "Malformed JSON body: Expecting value at line 1, column 32"
    assert error["details"]["line"] == 1 and error["details"]["column"] == 32
    assert error["details"]["issues"] == [
        {
            "field": None,
            "location": "body",
            "message": "Expecting value at line 1, column 32",
            "type": "json_invalid",
        }
    ]


async def test_malformed_json_on_a_later_line(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b'{\n  "email": "a@b.c",\n  "password": "x",,\n}',
        headers={"content-type": "application/json"},
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["field"] is None
    # The second comma of line 3; Python's own parser agrees ("line 3 column 19").
    assert (error["details"]["line"], error["details"]["column"]) == (3, 19)
    assert error["message"] == (
        "Malformed JSON body: Expecting property name enclosed in double quotes at line 3, column 19"
    )


async def test_two_megabyte_json_body_is_413(client: httpx.AsyncClient) -> None:
    big = b'{"email": "a@b.c", "password": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    error = assert_envelope(
        await client.post("/api/auth/login", content=big, headers={"content-type": "application/json"}),
        413,
        "PAYLOAD_TOO_LARGE",
    )
    assert error["details"]["limitBytes"] == 1024 * 1024


async def test_streamed_body_without_length_is_stopped_at_the_limit(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"email": "a@b.c", "password": "'
        for _ in range(40):
            yield b"x" * 64 * 1024
        yield b'"}'

    response = await client.post(
        "/api/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


async def test_validation_error_names_field_and_lists_issues(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": "not-an-email", "password": "short", "name": ""}
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    fields = {issue["field"] for issue in error["details"]["issues"]}
    assert fields == {"email", "password", "name"}
    assert error["field"] == "email"


async def test_unknown_body_field_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", json={"email": "a@b.c", "password": "whatever12", "isAdmin": True}
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["field"] == "isAdmin"


async def test_bad_query_parameter_is_400(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    response = await client.get("/api/admin/users", params={"limit": "101"})
    # Authentication runs first: no token, no information about the query.
    assert_envelope(response, 401, "UNAUTHORIZED")


async def test_unhandled_exception_is_a_generic_500(
    failing_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await failing_client.get("/api/test-explode")
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert error["message"] == "Internal server error"
    assert "secret internal detail" not in response.text
    assert "secret internal detail" in caplog.text


async def test_request_id_is_echoed_when_well_formed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/does-not-exist", headers={"X-Request-ID": "abc-123.DEF"})
    assert response.headers["x-request-id"] == "abc-123.DEF"
    assert response.json()["requestId"] == "abc-123.DEF"


async def test_malformed_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/does-not-exist", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["x-request-id"] != "bad id\twith spaces"
    assert len(response.headers["x-request-id"]) == 26


async def test_successful_responses_carry_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/apps/pose-generator/health")
    assert response.status_code == 200
    assert len(response.headers["x-request-id"]) == 26


async def test_unhandled_exception_logs_no_token_or_locals(failing_client: httpx.AsyncClient) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.secret-token-payload.signature"
    # A second handler with the service's own formatter: what stdout shows, captured.
    root = logging.getLogger()
    written = io.StringIO()
    probe = logging.StreamHandler(written)
    probe.setFormatter(root.handlers[0].formatter)
    root.addHandler(probe)
    try:
        response = await failing_client.get("/api/test-explode", headers={"Authorization": f"Bearer {token}"})
    finally:
        root.removeHandler(probe)
    assert response.status_code == 500
    output = written.getvalue()
    assert '"exc_type": "RuntimeError"' in output
    assert token not in output
    assert '"locals"' not in output
