"""Every documented operation, under every kind of token that reaches it, given hostile path
ids, query values and bodies (NUL characters, oversize, negative, out-of-range numbers, wrong
JSON types): always an answer below 500 and never a stack trace.

The operations come from the app's own OpenAPI document, so a new route is swept as soon as it
is described. Each is first called with real ids of the sandbox world to find the tokens that
pass its guard; the hostile variants are then sent with those (and without a token)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest

from tests.conftest import App, Backend, make_settings
from tests.fixtures.grants import user_token
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.sandbox.world import APP_SCOPES, provision_sandbox

ISSUER = "http://testserver"
HOSTILE_IDS = ("%00", "a%00b", "x" * 300, "-1", "99999999999999999999999", "%F0%28")
HOSTILE_VALUES = ("\x00", "x" * 5000, "-1", "1e309", "99999999999999999999999", "[]")
HOSTILE_JSON: tuple[Any, ...] = (None, [], "\x00", 1e308, -(2**70), {"\x00": "\x00"})
# Operations that end what later calls need (a grant, a secret): swept last.
LAST = re.compile(r"^DELETE |/rotate|/disable")
# Real values for query parameters whose default would block (the long-poll waits 30 s).
SAFE_QUERY = {"wait": "0"}


@dataclass
class World:
    http: httpx.AsyncClient
    ids: dict[str, str]
    principals: dict[str, dict[str, str]]
    openapi: dict[str, Any]


@pytest.fixture
async def world(backend: Backend, tmp_path: Path) -> AsyncIterator[World]:
    clock = FrozenClock()
    settings = make_settings(backend, api_rate_limit=1_000_000, issuer=ISSUER)
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
            app = App(http, application.state.runtime, clock)
            yield await _world(app, tmp_path, application.openapi())


async def _world(app: App, tmp_path: Path, openapi: dict[str, Any]) -> World:
    state = tmp_path / "fleet.json"
    creds = await provision_sandbox(app.rt, ISSUER, fleet=1, fleet_state=state)
    op, tp, user = creds["operator"], creds["third_party_app"], creds["users"][0]
    charger = orjson.loads(state.read_bytes())["chargers"][0]

    operator = await app.token(op["client_id"], op["client_secret"])
    device = await app.http.post(
        "/v1/device/token",
        json={
            "grant_type": "client_credentials",
            "device_id": charger["device_id"],
            "device_secret": charger["device_secret"],
        },
    )
    assert device.status_code == 200, device.text
    delegated = await user_token(
        app, tp["client_id"], tp["client_secret"], user["user_id"], APP_SCOPES, tp["redirect_uri"]
    )
    app_only = await app.token(tp["client_id"], tp["client_secret"], scope="vehicle_device_data")
    partner_id, partner_secret = await app.client(kind="partner", scopes="openid")
    partner = await app.token(partner_id, partner_secret)

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    principals = {
        "none": {},
        "operator": bearer(operator["access_token"]),
        "device": bearer(device.json()["data"]["access_token"]),
        "user": bearer(delegated) | {"EvEnergy-User": user["user_id"]},
        "app": bearer(app_only["access_token"]) | {"EvEnergy-User": user["user_id"]},
        "partner": bearer(partner["access_token"]),
    }
    vehicle = user["vehicles"][0]
    ids = {
        "device_id": charger["device_id"],
        "site_id": op["site_ids"][0],
        "energy_site_id": str(user["energy_site_id"]),
        "vehicle": str(vehicle["id"] if isinstance(vehicle, dict) else vehicle),
        "client_id": tp["client_id"],
        "connector": "1",
        "name": "charge_start",
        "command_id": "cmd_unknown",
        "session": "chrg_unknown",
    }
    return World(app.http, ids, principals, openapi)


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    path_params: tuple[str, ...]
    query_params: tuple[str, ...]
    body: dict[str, Any] | None  # the JSON schema of the body, when there is one

    def url(self, ids: dict[str, str], hostile: str | None = None, query: str | None = None) -> str:
        url = self.path
        for name in self.path_params:
            key = "energy_site_id" if "/energy_sites/" in self.path else name
            value = hostile if hostile is not None else quote(ids.get(key, "unknown"), safe="")
            url = url.replace("{" + name + "}", value)
        params = {name: SAFE_QUERY.get(name, "") for name in self.query_params}
        if query is not None:
            params = {name: query for name in self.query_params}
        params = {k: v for k, v in params.items() if v != ""}
        if params:
            url += "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        return url


def _operations(openapi: dict[str, Any]) -> list[Operation]:
    found = []
    for path, methods in openapi["paths"].items():
        for method, spec in methods.items():
            params = spec.get("parameters", [])
            content = (spec.get("requestBody") or {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            found.append(
                Operation(
                    method.upper(),
                    path,
                    tuple(p["name"] for p in params if p["in"] == "path"),
                    tuple(p["name"] for p in params if p["in"] == "query"),
                    _resolve(openapi, schema) if schema is not None else None,
                )
            )
    return sorted(found, key=lambda o: bool(LAST.search(f"{o.method} {o.path}")))


def _resolve(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = openapi
    for part in ref.lstrip("#/").split("/"):
        resolved = resolved[part]
    return resolved


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()  # orjson refuses integers past 64 bits


def _bodies(schema: dict[str, Any] | None) -> list[bytes]:
    """Whole bodies of the wrong type, then each field of the schema given each hostile value."""
    bodies = [_json(v) for v in HOSTILE_JSON] + [b"{", b"\x00", b'{"a":' * 500]
    fields = list((schema or {}).get("properties", {}))
    for value in HOSTILE_JSON:
        bodies.append(_json({name: value for name in fields or ["x"]}))
    return bodies


async def test_no_hostile_input_reaches_a_500(world: World) -> None:
    operations = _operations(world.openapi)
    assert len(operations) > 60, "the OpenAPI document lost its operations"
    failures: list[str] = []
    sent = 0
    guarded = 0  # operations some token of the world passes (the sweep reaches the handler)

    async def call(op: Operation, who: str, url: str, body: bytes | None = None) -> int:
        nonlocal sent
        sent += 1
        headers = dict(world.principals[who])
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = await world.http.request(op.method, url, headers=headers, content=body)
        if response.status_code >= 500 or b"Traceback" in response.content:
            failures.append(
                f"{op.method} {url[:120]} as {who}: {response.status_code} {response.text[:200]}"
            )
        return response.status_code

    for op in operations:
        # Which tokens pass this operation's guard (a 401/403 is the guard's answer).
        reaching = ["none"]
        for who in world.principals:
            status = await call(op, who, op.url(world.ids), b"{}" if op.body else None)
            if who != "none" and status not in (401, 403):
                reaching.append(who)
        guarded += len(reaching) > 1
        for who in reaching:
            for hostile in HOSTILE_IDS if op.path_params else ():
                await call(op, who, op.url(world.ids, hostile=hostile))
            for value in HOSTILE_VALUES if op.query_params else ():
                await call(op, who, op.url(world.ids, query=value))
            if op.method in ("POST", "PUT", "PATCH"):
                for body in _bodies(op.body):
                    await call(op, who, op.url(world.ids), body)
    print(f"swept {len(operations)} operations ({guarded} past a guard) with {sent} requests")
    assert guarded > 40, "the world's tokens no longer reach the operations"
    assert not failures, f"{len(failures)} of {sent} answers were 5xx:\n" + "\n".join(failures)
