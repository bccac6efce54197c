"""The OpenAPI document of ``/api``: FastAPI's, plus how to authenticate and what every error
looks like, so that ``/api/docs`` can authorise and clients (and schemathesis) know each
status an operation may answer."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from banso.web.problems import PROBLEM_MEDIA_TYPE, FieldProblem, Problem

SECURITY_SCHEMES = {
    "token": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `banso users token EMAIL`.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "banso_session",
        "description": "The browser's sign-in cookie; unsafe methods also need X-CSRF-Token.",
    },
}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return :func:`api_document` (computed once)."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = api_document(app)
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def api_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with the security schemes and the problem responses declared."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas["FieldProblem"] = FieldProblem.model_json_schema()
    schemas["Problem"].pop("$defs", None)
    components["securitySchemes"] = SECURITY_SCHEMES
    document["security"] = [{"token": []}, {"session": []}]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            operation["responses"].update(_problem_responses(path, method, operation))
    return document


def _problem_responses(path: str, method: str, operation: dict[str, Any]) -> dict[str, Any]:
    """The error statuses an operation may answer, each with the problem document."""
    statuses = {
        "400": "The request breaks a rule of the data (the detail says which).",
        "401": "No valid session or API token.",
        "422": "A parameter or body field is invalid; errors lists each with the reason.",
    }
    if method != "get":
        statuses["403"] = "The role does not allow this, or the CSRF token is missing."
    if "{" in path:
        statuses["404"] = "There is no such record."
    if "requestBody" in operation:
        statuses["413"] = "The body is larger than the limit."
    if path == "/api/events":
        statuses["429"] = (
            "Too many batches this minute, or the event store is busy; wait Retry-After seconds."
        )
    if path.startswith("/api/inapp/"):
        statuses["403"] = "The site key is unknown or disabled, or the origin is not allowed."
        statuses["429"] = "Too many requests with this site key; wait Retry-After seconds."
    ref = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": ref}}}
        for status, description in statuses.items()
    }
