"""The OpenAPI document: the real error envelope and the statuses each route can really answer.

FastAPI documents a `422 HTTPValidationError` that this service never sends
(validation errors are 400 envelopes) and none of the envelopes it does send.
`install_openapi` replaces that, in one place:

- statuses that follow from what a route *is* are derived from its
  dependencies and parameters (`derived_statuses`): a body, path, query or
  header can be invalid (400), a body can be too large (413), an uploaded file can be
  of the wrong kind (415), a signed-in route can be refused (401), an admin
  route too (403), an id in the path can name nothing (404), and a route that
  opens a database session can find the database unable to serve (503);
- statuses that follow from a route's own rules (402, 403, 409, …) are
  declared where the route is, with `responses=errors(409)`;
- every one of them is the error envelope, `ErrorResponse`.

The declarations (the envelope, `errors(...)`) live in `posegen.openapi`, below every endpoint
module; this module reads the routes' dependencies, so it sits above them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from posegen.auth.dependencies import current_user, require_admin
from posegen.db import get_session
from posegen.openapi import ERROR_DESCRIPTIONS, FORM_NAME, ErrorResponse
from posegen.ratelimit.http import WRITE_METHODS, limit_auth_attempts, pose_budget

# Dependencies whose presence on a route means it can answer these statuses.
DEPENDENCY_STATUSES: dict[Callable[..., Any], tuple[int, ...]] = {
    current_user: (401,),
    require_admin: (403,),
    get_session: (503,),
    limit_auth_attempts: (429,),
    pose_budget: (429,),
}


def _name_form_bodies(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for item in document["paths"].values():
        for operation in item.values():
            name = operation.pop(FORM_NAME, None)
            if name is None:
                continue
            for media in operation["requestBody"]["content"].values():
                generated = media["schema"]["$ref"].rsplit("/", 1)[1]
                body = {**schemas.pop(generated), "title": name}
                if schemas.setdefault(name, body) != body:
                    raise ValueError(f"two different form bodies are both named {name}")
                media["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def derived_statuses(dependant: Dependant) -> set[int]:
    """The error statuses a route can answer because of its parameters and dependencies."""
    statuses: set[int] = set()
    for part in _dependants(dependant):
        # Path parameters too: the text guard refuses control characters in any of them.
        if (
            part.path_params
            or part.query_params
            or part.header_params
            or part.cookie_params
            or part.body_params
        ):
            statuses.add(400)
        if part.body_params:
            statuses.add(413)
        if any(isinstance(field.field_info, params.File) for field in part.body_params):
            statuses.add(415)
        if part.path_params:
            statuses.add(404)
        if part.call is not None:
            statuses.update(DEPENDENCY_STATUSES.get(part.call, ()))
    return statuses


def _envelope(status: int) -> dict[str, Any]:
    return {
        "description": ERROR_DESCRIPTIONS.get(status, "Error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the 422s replaced by the statuses each route really answers."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        # A model used both as a body and in an answer keeps its one name (no `X-Input`/`X-Output`),
        # and date-times are documented as `format: date-time` in answers too.
        separate_input_output_schemas=False,
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _name_form_bodies(document)
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    envelope = ErrorResponse.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schemas.update(envelope.pop("$defs", {}))
    schemas["ErrorResponse"] = envelope

    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        path_item = document["paths"].get(context.path_format, {})
        declared = (context.responses or {}).items()
        own = {int(status): spec for status, spec in declared if str(status).isdigit()}
        statuses = derived_statuses(context.dependant) | {status for status in own if status >= 400}
        signed_in = any(part.call is current_user for part in _dependants(context.dependant))
        for method in context.methods or ():
            operation = path_item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            # Every write of a signed-in user counts against the writes limit.
            limited = {429} if signed_in and method in WRITE_METHODS else set()
            for status in sorted(statuses | limited):
                spec = own.get(status, {})
                if "model" in spec or "content" in spec:
                    continue  # the route documents its own body for this status (e.g. health's 503)
                responses[str(status)] = _envelope(status)
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi`'s document at `/openapi.json` (built once, on first use)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
