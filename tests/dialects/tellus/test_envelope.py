"""What every Tellus list and route shares: page windows refused out of range (never a 500),
and an OpenAPI description with the envelope's exact success schema and every error status."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.fleet import operator

LISTS = (
    "/v1/operator/sites",
    "/v1/operator/devices",
    "/v1/operator/commands",
    "/v1/operator/charging-records",
)


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page", ["4611686018427387904", "99999999999999999999999", "0"])
async def test_a_page_out_of_range_is_400_code_1002_on_every_list(
    app: App, path: str, page: str
) -> None:
    op = await operator(app)
    response = await app.http.get(f"{path}?page={page}", headers=op.headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["code"], body["data"]) == (1002, None)
    assert body["message"].startswith("query.page: ")


@pytest.mark.parametrize("path", LISTS)
async def test_the_last_page_allowed_is_empty_not_an_error(app: App, path: str) -> None:
    op = await operator(app)
    response = await app.http.get(f"{path}?page=1000000000&size=100", headers=op.headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["items"] == []


async def test_every_list_documents_its_page_bounds(app: App) -> None:
    openapi = (await app.http.get("/openapi.json")).json()
    for path in LISTS:
        params = {p["name"]: p for p in openapi["paths"][path]["get"]["parameters"]}
        schema = params["page"]["schema"]
        bounds = schema["anyOf"][0] if "anyOf" in schema else schema
        assert params["page"]["in"] == "query", path
        assert (bounds["type"], bounds["minimum"], bounds["maximum"]) == ("integer", 1, 10**9)


def _tellus(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, spec)
        for path, methods in openapi["paths"].items()
        if path.startswith(("/v1/operator/", "/v1/device/"))
        for method, spec in methods.items()
    ]


async def test_every_tellus_route_documents_its_envelope_and_its_errors(app: App) -> None:
    openapi = (await app.http.get("/openapi.json")).json()
    routes = _tellus(openapi)
    assert len(routes) >= 29
    schemas = openapi["components"]["schemas"]
    for method, path, spec in routes:
        where = f"{method.upper()} {path}"
        success = [s for s in spec["responses"] if s.startswith("2")]
        if "101" in spec["responses"]:  # a WebSocket: its messages are frames, not envelopes
            assert not success, where
            success = []
        else:
            assert success, where
        for status in success:
            ref = spec["responses"][status]["content"]["application/json"]["schema"]["$ref"]
            envelope = schemas[ref.rsplit("/", 1)[1]]
            assert {"code", "message", "data"} <= set(envelope["required"]), where
        errors = {int(s) for s in spec["responses"] if s[0] in "345"}
        assert 405 in errors, where
        queried = any(p["in"] == "query" for p in spec.get("parameters", []))
        if queried or "requestBody" in spec:
            assert 400 in errors, where
        for status in errors:
            ref = spec["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"]
            assert ref.endswith("/TellusError"), where
        if "security" in spec:
            assert {401, 403} <= errors, where


async def test_command_routes_document_the_idempotency_key_and_their_conflicts(app: App) -> None:
    openapi = (await app.http.get("/openapi.json")).json()
    queueing = [
        (path, spec)
        for method, path, spec in _tellus(openapi)
        if method == "post" and ("/connectors/" in path or path.endswith("/flexibility"))
    ]
    assert len(queueing) == 5
    for path, spec in queueing:
        headers = [p["name"] for p in spec["parameters"] if p["in"] == "header"]
        assert headers == ["Idempotency-Key"], path
        assert "409" in spec["responses"] and "202" in spec["responses"], path


async def test_every_tellus_body_is_documented_as_refusing_unknown_fields(app: App) -> None:
    openapi = (await app.http.get("/openapi.json")).json()
    schemas = openapi["components"]["schemas"]
    bodies = 0
    for method, path, spec in _tellus(openapi):
        content = spec.get("requestBody", {}).get("content", {}).get("application/json")
        ref = (content or {}).get("schema", {}).get("$ref")
        if ref is None:  # the token endpoints take OAuth parameters
            continue
        bodies += 1
        assert schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False, (method, path)
    assert bodies >= 13
