"""Charger registration: bound to the enrolling operator, unique by serial, strict about bodies;
open (no token) only in a sandbox."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import App, Backend, make_settings
from tests.fixtures.fleet import (
    description,
    device_token_response,
    enroll,
    operator,
    register,
    register_raw,
)
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.devices.enrollment import SANDBOX_OPERATOR


async def test_a_registered_charger_appears_in_its_operators_fleet(app: App) -> None:
    op = await operator(app)
    body = description(
        "TPG-22-000123",
        mac="aa-bb-cc-dd-ee-01",
        connectors=[{"type": "CCS2", "max_power_kw": 150}, {"type": "Type2", "max_power_kw": 22}],
    )
    response = await register_raw(app, await enroll(app, op), body)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert data["device_id"].startswith("vgc_test_")
    assert data["device_secret"].startswith("vgcs_test_")

    shown = await app.http.get(f"/v1/operator/devices/{data['device_id']}", headers=op.headers)
    assert shown.status_code == 200
    device = shown.json()["data"]
    assert device["sn"] == "TPG-22-000123"
    assert device["mac"] == "AA:BB:CC:DD:EE:01"
    assert (device["model"], device["manufacturer"], device["firmware_version"]) == (
        "Tellus 22",
        "Tellus",
        "1.4.2",
    )
    assert device["connectors"] == [
        {"number": 1, "type": "CCS2", "max_power_kw": 150},
        {"number": 2, "type": "Type2", "max_power_kw": 22},
    ]
    assert device["online"] is False and device["last_seen_at"] is None
    canonical = await app.http.get(f"/v1/devices/{data['device_id']}", headers=op.headers)
    assert canonical.json() == device


async def test_a_serial_already_registered_is_409_code_4001_and_takes_no_use(app: App) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=2)
    await register(app, token, serial="DUP-1")
    again = await register_raw(app, token, description("DUP-1", model="Other"))
    assert again.status_code == 409
    assert again.json()["code"] == 4001 and "DUP-1" in again.json()["message"]
    await register(app, token)  # the refused attempt left the second use in place
    listed = await app.http.get("/v1/operator/devices", headers=op.headers)
    assert listed.json()["data"]["total"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        description(sn=""),
        description(sn="has space"),
        description(sn="x" * 65),
        {k: v for k, v in description().items() if k != "model"},
        description(firmware_version=7),
        description(mac="not-a-mac"),
        description(connectors=[{"type": "Schuko", "max_power_kw": 3.7}]),
        description(connectors=[{"type": "CCS2", "max_power_kw": 0}]),
        description(connectors=[{"type": "CCS2", "max_power_kw": 5000}]),
        description(connectors=[{"type": "CCS2"}]),
        description(connectors=[{"type": "Type2", "max_power_kw": 22}] * 17),
        "SN-1",
    ],
)
async def test_malformed_registrations_are_400_code_1002_and_change_nothing(
    app: App, body: Any
) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=1)
    response = await register_raw(app, token, body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002 and response.json()["data"] is None
    await register(app, token)  # the one use is still there
    assert len(await app.rt.identity.admin.list_all()) == 2  # the operator and that one device


async def test_a_sandbox_accepts_open_registration_into_the_sandbox_operator(app: App) -> None:
    first = await register(app, None)
    second = await register(app, None)
    operators = [c for c in await app.rt.identity.admin.list_all() if c.name == SANDBOX_OPERATOR]
    assert len(operators) == 1
    device = await app.rt.fleet.devices.get(operators[0].id, first.device_id)
    assert device.site_id is None
    await app.rt.fleet.devices.get(operators[0].id, second.device_id)
    # The device credentials work like any others.
    token = await device_token_response(app, first.device_id, first.secret)
    assert token.status_code == 200


async def test_open_registration_reuses_the_operator_the_sandbox_command_keeps(app: App) -> None:
    kept, _ = await app.client(kind="operator", scopes="read write", name=SANDBOX_OPERATOR)
    charger = await register(app, None)
    assert (await app.rt.fleet.devices.get(kept, charger.device_id)).id == charger.device_id


@pytest.fixture
async def production(backend: Backend) -> AsyncIterator[App]:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings = make_settings(backend, environment="production", master_key=key)
    clock = FrozenClock()
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield App(http, application.state.runtime, clock)


async def test_production_refuses_registration_without_an_enrollment_token(
    production: App,
) -> None:
    response = await register_raw(production, None, description())
    assert response.status_code == 401
    assert response.json()["code"] == 2001
    assert "enrollment token" in response.json()["message"]
    assert "vget_live_" in response.json()["message"]
    assert await production.rt.identity.admin.list_all() == []
    op = await operator(production)
    charger = await register(production, await enroll(production, op))
    assert charger.device_id.startswith("vgc_live_")
