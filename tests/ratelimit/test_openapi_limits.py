"""The OpenAPI document names 429 exactly where a limit can refuse."""

from __future__ import annotations

from tests.test_openapi import OPERATIONS, P, statuses


def test_limited_routes_document_429() -> None:
    assert 429 in statuses("POST", "/api/auth/login")
    assert 429 in statuses("POST", "/api/auth/register")
    assert 429 in statuses("POST", f"{P}/generate")
    assert 429 in statuses("POST", f"{P}/projects")  # a write of a signed-in user
    assert 429 not in statuses("GET", f"{P}/projects")  # reads are not limited
    assert 429 not in statuses("GET", f"{P}/health")
    for method, path, operation in OPERATIONS:
        signed_in_write = method in {"POST", "PUT", "PATCH", "DELETE"} and "401" in operation["responses"]
        if signed_in_write:
            assert "429" in operation["responses"], (method, path)
