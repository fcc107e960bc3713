"""The proxy's `POST /api/1/vehicles/fleet_telemetry_config`: the config signed with the proxy's
key as a JWS and sent to a real voltgate's `fleet_telemetry_config_jws` with the caller's token,
which applies it to the vehicles that have the key paired."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import App
from tests.dialects.tesla.test_telemetry import NO_SKIPS, _config, _shown
from tests.fixtures.pairing import pair_in_memory
from tests.proxy.test_commands import _VIN, Setup, _proxy, _Stub
from tests.vehicles.support import driver
from voltgate.sdk.vehicle_command import Signer, generate_private_key, public_bytes
from voltgate.sdk.vehicle_command.jws import FLEET_TELEMETRY_AUDIENCE

PATH = "/api/1/vehicles/fleet_telemetry_config"
SCOPE = "vehicle_device_data"


@pytest.fixture
async def setup(app: App) -> AsyncIterator[Setup]:
    assert app.asgi is not None
    me = await driver(app)
    signer = Signer(generate_private_key())
    paired = pair_in_memory(app.rt)
    transport = httpx.ASGITransport(app=app.asgi, client=("127.0.0.1", 40001))
    async with _proxy(signer, "http://testserver", transport) as proxy:
        yield Setup(me, signer, paired, proxy)


async def _configure(setup: Setup, body: Any, scopes: str = SCOPE) -> httpx.Response:
    headers = await setup.me.headers(scopes)
    return await setup.proxy.post(PATH, headers=headers, json=body)


async def test_a_config_is_signed_and_applied_to_the_vehicles_that_have_the_key_paired(
    setup: Setup, app: App
) -> None:
    me = setup.me
    key = public_bytes(setup.signer.private_key)
    setup.paired.pair(me.signed.vin, key)
    config = _config(app)
    answer = await _configure(setup, {"vins": [me.signed.vin, me.asleep.vin], "config": config})
    assert answer.status_code == 200, answer.text
    skipped = NO_SKIPS | {"missing_key": [me.asleep.vin]}
    assert answer.json() == {"response": {"updated_vehicles": 1, "skipped_vehicles": skipped}}

    # Read back through the proxy (forwarded as it is): signed by the proxy's key.
    shown = await setup.proxy.get(
        f"/api/1/vehicles/{me.signed.vin}/fleet_telemetry_config",
        headers=await me.headers(SCOPE),
    )
    iss = base64.b64encode(key).decode()
    assert shown.json()["response"]["config"] == _shown(config) | {
        "iss": iss,
        "aud": FLEET_TELEMETRY_AUDIENCE,
    }
    running = await app.rt.owner.telemetry_configs.for_vehicle(me.signed.vin)
    assert running is not None and set(running.fields) == set(config["fields"])


async def test_the_caller_s_iss_and_aud_are_overwritten(setup: Setup, app: App) -> None:
    me = setup.me
    setup.paired.pair(me.signed.vin, public_bytes(setup.signer.private_key))
    config = _config(app) | {"iss": "someone else", "aud": "com.tesla.fleet.Other"}
    answer = await _configure(setup, {"vins": [me.signed.vin], "config": config})
    assert answer.json()["response"]["updated_vehicles"] == 1


async def test_fleet_api_s_refusals_come_back_as_they_are(setup: Setup, app: App) -> None:
    me = setup.me
    bad = await _configure(
        setup, {"vins": [me.signed.vin], "config": _config(app, hostname="bad host")}
    )
    assert bad.status_code == 400
    assert bad.json()["error_description"].startswith("token.hostname: Value error")
    scoped = await _configure(
        setup, {"vins": [me.signed.vin], "config": _config(app)}, scopes="vehicle_location"
    )
    assert scoped.status_code == 403 and scoped.json()["code"] == 2003


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"vins": ["5YJ3E1EC4SF162094"]}',
        b'{"vins": "5YJ3E1EC4SF162094", "config": {}}',
        b'{"vins": ["5YJ3E1EC4SF162094"], "config": []}',
        b'{"vins": ["5YJ3E1EC4SF162094"], "config": {}, "token": "x"}',
    ],
)
async def test_a_body_that_is_not_vins_and_a_config_is_400_invalid_config(
    setup: Setup, body: bytes
) -> None:
    headers = await setup.me.headers(SCOPE)
    answer = await setup.proxy.post(PATH, headers=headers, content=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_config"


async def test_without_a_token_it_is_401_missing_token(setup: Setup) -> None:
    answer = await setup.proxy.post(PATH, json={"vins": [_VIN], "config": {}})
    assert answer.status_code == 401 and answer.json()["error"] == "missing_token"


async def test_an_upstream_that_is_down_is_502_upstream_unreachable() -> None:
    async with _Stub(None).running() as upstream:
        pass  # closed: nothing listens there any more
    async with _proxy(Signer(generate_private_key()), upstream, None) as proxy:
        answer = await proxy.post(
            PATH,
            json={"vins": [_VIN], "config": {"hostname": "t.example"}},
            headers={"Authorization": "Bearer vgat_test"},
        )
    assert answer.status_code == 502 and answer.json()["error"] == "upstream_unreachable"
