"""The SDK's device and operator clients against the app in process: a charger registers,
reports, receives an operator's command through the long-poll and reports it done."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import App
from tests.fixtures.fleet import Operator, bearer, enroll
from voltgate.sdk.device import DeviceClient
from voltgate.sdk.errors import ApiError
from voltgate.sdk.operator import OperatorClient

PORTS = [{"type": "CCS2", "max_power_kw": 150}, {"type": "Type2", "max_power_kw": 22}]
BASE = "http://testserver"


async def _operator(app: App, name: str = "sdk ops") -> OperatorClient:
    cid, secret = await app.client(kind="operator", name=name)
    return OperatorClient(BASE, cid, secret, http=app.http)


async def test_a_charger_and_an_operator_through_the_sdk(app: App) -> None:
    ops = await _operator(app)
    token = await enroll(app, Operator(ops.client_id, bearer(await ops.tokens.token())))
    device = DeviceClient(BASE, http=app.http)
    device_id, device_secret = await device.register(
        sn="SDK-0001",
        model="Tellus 150",
        manufacturer="Tellus",
        firmware_version="2.0.1",
        connectors=PORTS,
        enrollment_token=token,
    )
    assert device_id.startswith("vgc_test_") and device_secret.startswith("vgcs_test_")

    reading = {"connector": 1, "state": "charging", "power_kw": 48.2, "energy_kwh": 3.1, "soc": 40}
    assert await device.telemetry([reading]) == 1
    assert await device.events([{"type": "plug_in", "connector": 1}]) == 1
    start = app.clock.now() - 60
    record = {"transaction_id": "sdk-tx-1", "connector": 1, "started_at": start, "energy_kwh": 1}
    stored = await device.charging_record(record)
    assert stored["transaction_id"] == "sdk-tx-1" and stored["stopped_at"] is None
    beat = await device.heartbeat("ok", [{"connector": 1, "state": "charging", "soc": 40}])
    assert beat.commands == [] and beat.server_time > 0
    assert device.tokens.renewals == 1

    latest = await ops.latest_telemetry(device_id)
    assert latest["online"] is True and latest["connectors"][0]["power_kw"] == 48.2

    polling = asyncio.create_task(device.commands(wait=10))
    await asyncio.sleep(0.2)
    issued = await ops.start(device_id, 1, charge_power=50, duration=3600, target_soc=80)
    assert issued["status"] == "queued"
    commands = await asyncio.wait_for(polling, 5)
    assert [(c.command_id, c.type, c.connector) for c in commands] == [
        (issued["command_id"], "start", 1)
    ]
    assert commands[0].params["charge_power"] == 50
    for status in ("accepted", "completed"):
        await device.command_status(issued["command_id"], status)
    assert (await ops.command(issued["command_id"]))["status"] == "completed"

    other = await _operator(app, "other ops")
    with pytest.raises(ApiError) as caught:
        await other.command(issued["command_id"])
    assert (caught.value.status, caught.value.code) == (404, 3001)


async def test_a_rotated_device_secret_is_used_for_the_next_token(app: App) -> None:
    device = DeviceClient(BASE, http=app.http)
    await device.register(sn="SDK-0002", model="M", manufacturer="Acme", firmware_version="1")
    old = device.device_secret
    new = await device.rotate_secret()
    assert new != old and device.device_secret == new
    device.tokens._held = None  # force a fresh token: it must come from the new secret
    assert (await device.heartbeat()).server_time > 0
    assert device.tokens.renewals == 2
