"""The OpenAPI 3.1 document, generated from the operations the router dispatches: every route,
its parameters, body and success schema, and every error status it can answer in its
dialect's error body."""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from pydantic import TypeAdapter

from voltgate.http.routing import Operation

_REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{([^}]+)}")
_OAUTH_BODY = {
    "type": "object",
    "description": "OAuth parameters (RFC 6749); client credentials may be sent with HTTP Basic",
    "additionalProperties": {"type": "string"},
}
_WHY = {
    400: "The request is malformed or a value is out of range",
    401: "No valid credentials (token missing, invalid, expired or revoked; a bad signature)",
    403: "The token's kind or scopes do not allow this",
    404: "No such resource (or not the caller's)",
    405: "The method is not allowed on this path",
    408: "The vehicle is asleep or offline",
    409: "Conflicts with the resource's state",
    413: "The body is too large",
    415: "The body's Content-Type is not accepted",
    426: "A WebSocket: open it with the WebSocket handshake (Upgrade: websocket)",
    429: "Too many requests; retry after Retry-After seconds",
    503: "Not ready",
}
_INT = {"schema": {"type": "integer"}}
_RATE_HEADERS = ("Limit", "Remaining", "Reset")


def document(
    operations: Iterable[Operation], *, title: str, version: str, description: str
) -> dict[str, Any]:
    ops = [op for op in operations if op.public]
    inputs: list[tuple[tuple[int, str], Any, TypeAdapter[Any]]] = []
    for index, op in enumerate(ops):
        if op.response is not None:
            inputs.append(((index, "response"), "serialization", TypeAdapter(op.response)))
        for status, answer in op.answers:
            inputs.append(((index, str(status)), "serialization", TypeAdapter(answer)))
        for part, model in (("path", op.path_model), ("query", op.query)):
            if model is not None:
                inputs.append(((index, part), "validation", TypeAdapter(model)))
        if op.body is not None and op.body.model is not None:
            inputs.append(((index, "body"), "validation", TypeAdapter(op.body.model)))
    schemas, defs = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    components: dict[str, Any] = dict(defs.get("$defs", {}))
    paths: dict[str, Any] = {}
    for index, op in enumerate(ops):
        parts = {part: schema for ((i, part), _), schema in schemas.items() if i == index}
        for part in ("path", "query"):  # listed one by one: the model's own schema, not a $ref
            if part in parts:
                parts[part] = _inline(parts[part], components)
        components.setdefault(op.errors.name, op.errors.schema)
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, parts)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "basic": {"type": "http", "scheme": "basic"},
            },
        },
    }


def _operation(op: Operation, parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "operationId": _operation_id(op),
        "summary": op.summary or op.path,
        "tags": list(op.tags) or ["voltgate"],
    }
    if op.description:
        out["description"] = op.description
    parameters = _path_parameters(op, parts.get("path"))
    parameters += _parameters(parts.get("query"), "query")
    parameters += [
        {
            "name": h.name,
            "in": "header",
            "required": h.required,
            "description": h.description,
            "schema": {"type": "string"},
        }
        for h in op.headers
    ]
    if parameters:
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = _request_body(op, parts.get("body"))
    if op.guard is not None:
        out["security"] = [{"bearer": []}]
    rate = _rate_headers(op)
    ok: dict[str, Any] = {"description": HTTPStatus(op.status).phrase}
    if op.response is not None:
        ok["content"] = {op.media: {"schema": parts["response"]}}
    if rate:
        ok["headers"] = rate
    responses: dict[str, Any] = {str(op.status): ok}
    for status, _ in op.answers:
        schema = {"schema": parts[str(status)]}
        responses[str(status)] = {"description": _WHY.get(status, HTTPStatus(status).phrase)}
        responses[str(status)]["content"] = {op.media: schema}
    error_ref = {"$ref": _REF.format(model=op.errors.name)}
    for status in op.statuses():
        answer: dict[str, Any] = {
            "description": _WHY.get(status, HTTPStatus(status).phrase),
            "content": {"application/json": {"schema": error_ref}},
        }
        headers = dict(rate)
        if status == 401:
            headers["WWW-Authenticate"] = {"schema": {"type": "string"}}
        if status == 405:
            headers["Allow"] = {"schema": {"type": "string"}}
        if status == 429:
            headers["Retry-After"] = _INT
        if headers:
            answer["headers"] = headers
        responses[str(status)] = answer
    out["responses"] = responses
    return out


def _inline(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    found: dict[str, Any] = components[ref.rsplit("/", 1)[1]]
    return found


def _operation_id(op: Operation) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "_", _PARAM.sub(r"by_\1", op.path)).strip("_")
    return f"{op.method.lower()}_{words}"


def _path_parameters(op: Operation, schema: dict[str, Any] | None) -> list[dict[str, Any]]:
    declared = {p["name"]: p for p in _parameters(schema, "path")}
    out = []
    for name in _PARAM.findall(op.path):
        out.append(
            declared.get(name)
            or {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        )
    return out


def _parameters(schema: dict[str, Any] | None, where: str) -> list[dict[str, Any]]:
    if schema is None:
        return []
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        param: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
        }
        if "description" in prop:
            param["description"] = prop["description"]
        out.append(param)
    return out


def _request_body(op: Operation, schema: dict[str, Any] | None) -> dict[str, Any]:
    assert op.body is not None
    if op.body.kind == "oauth":
        return {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": _OAUTH_BODY},
                "application/json": {"schema": _OAUTH_BODY},
            },
        }
    body_schema = schema or {"type": "object"}
    return {
        "required": not op.body.optional and op.body.kind != "object",
        "content": {"application/json": {"schema": body_schema}},
    }


def _rate_headers(op: Operation) -> dict[str, Any]:
    prefix = op.limit.prefix if op.limit is not None else op.counted
    if prefix is None:
        return {}
    return {f"{prefix}{name}": _INT for name in _RATE_HEADERS}
