"""OpenAPI descriptions of the fast-path routes, which FastAPI cannot see."""

from __future__ import annotations

from typing import Any

from voltgate.http.fastpath import FastRouteTable

_FORM_OR_JSON = {
    "content": {
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
        "application/json": {"schema": {"type": "object"}},
    }
}
_TOKEN = {
    "type": "object",
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "example": "Bearer"},
        "expires_in": {"type": "integer"},
        "scope": {"type": "string"},
    },
}
_ME = {
    "type": "object",
    "properties": {
        "subject": {"type": "string"},
        "client_id": {"type": "string"},
        "kind": {"type": "string"},
        "scopes": {"type": "array", "items": {"type": "string"}},
        "environment": {"type": "string"},
        "issued_at": {"type": "integer"},
        "expires_at": {"type": "integer"},
    },
}

# path -> (summary, tag, request body?, 200 schema)
_DOCS: dict[str, tuple[str, str, bool, dict[str, Any] | None]] = {
    "/oauth/token": ("Token endpoint (RFC 6749 §3.2)", "oauth", True, _TOKEN),
    "/oauth/revoke": ("Token revocation (RFC 7009)", "oauth", True, None),
    "/oauth/introspect": ("Token introspection (RFC 7662)", "oauth", True, None),
    "/.well-known/oauth-authorization-server": ("Server metadata (RFC 8414)", "oauth", False, None),
    "/.well-known/jwks.json": ("Signing keys (RFC 7517)", "oauth", False, None),
    "/v1/me": ("The caller of this bearer token", "identity", False, _ME),
    "/healthz": ("The process is up", "health", False, None),
    "/v1/operator/oauth/token": ("Tellus token endpoint (JSON, envelope)", "tellus", True, None),
    "/v1/device/token": ("Tellus device token {device_id, device_secret}", "tellus", True, None),
    "/v1/device/telemetry": (
        "Tellus charger telemetry (202 {accepted}; stored within a second)",
        "tellus: charger",
        True,
        None,
    ),
    "/o/token": ("ev.energy token endpoint", "ev.energy", True, _TOKEN),
    "/oauth2/v3/token": ("Tesla token endpoint", "tesla", True, _TOKEN),
    "/o/revoke_token/": ("ev.energy revocation (trailing slash required)", "ev.energy", True, None),
}


def describe_fast_routes(fast: FastRouteTable) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, methods in fast.routes.items():
        if path not in _DOCS:
            continue
        summary, tag, has_body, schema = _DOCS[path]
        ok: dict[str, Any] = {"description": "OK"}
        if schema is not None:
            ok["content"] = {"application/json": {"schema": schema}}
        operation: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": {"200": ok}}
        if has_body:
            operation["requestBody"] = _FORM_OR_JSON
        if path == "/v1/me":
            operation["security"] = [{"bearer": []}]
        paths[path] = {method.lower(): operation for method in methods}
    return paths
