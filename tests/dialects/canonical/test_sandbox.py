"""The sandbox's vehicle controls (`/sandbox/vehicles/{vin}`): plug in, unplug, drive somewhere,
set the battery; the owner's token or an admin's; bad input a clear 4xx; absent outside a
sandbox. What the API reads afterwards is what the control did (the same vehicle, changed in
its queue); the live stream of the change is tests/pulse/test_pulse_live.py's."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import App
from tests.vehicles.support import ALL_SCOPES, Driver, driver
from voltgate.app import create_app
from voltgate.config import Environment, Settings

DEVICE_DATA = "vehicle_device_data vehicle_location"


def _path(vin: str, action: str = "") -> str:
    return f"/sandbox/vehicles/{vin}" + (f"/{action}" if action else "")


async def _do(me: Driver, vin: str, action: str, json: Any = None) -> httpx.Response:
    return await me.post(_path(vin, action), scopes=DEVICE_DATA, json=json)


async def _ok(me: Driver, vin: str, action: str, json: Any = None) -> dict[str, Any]:
    answer = await _do(me, vin, action, json)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_the_owner_unplugs_drives_plugs_in_and_drains_the_car(app: App) -> None:
    me = await driver(app)
    vin = me.charging.vin  # seeded charging at home
    unplugged = await _ok(me, vin, "unplug")
    assert unplugged["plugged_in"] is False and unplugged["charging_state"] == "Disconnected"
    data = (await me.data(me.charging, scopes=ALL_SCOPES)).json()["response"]
    assert data["charge_state"]["charging_state"] == "Disconnected"  # the API sees it
    history = await me.get("/api/1/dx/charging/history", scopes="vehicle_charging_cmds")
    assert history.json()["response"]["data"][0]["vin"] == vin  # the charge ended, recorded

    home = (me.charging.latitude, me.charging.longitude)
    moved = await _ok(me, vin, "location", {"latitude": home[0] + 0.05, "longitude": home[1]})
    assert moved["latitude"] == home[0] + 0.05 and moved["state"] == "online"
    assert 3.4 < moved["odometer"] - unplugged["odometer"] < 3.6  # 5.6 km driven
    located = (await me.data(me.charging, scopes=ALL_SCOPES)).json()["response"]
    assert located["drive_state"]["latitude"] == home[0] + 0.05
    work = await _ok(me, vin, "location", {"latitude": home[0], "longitude": home[1] + 0.01,
                                           "name": "Work"})  # fmt: skip
    assert work["location_name"] == "Work"
    back = await _ok(me, vin, "location", {"latitude": home[0], "longitude": home[1]})
    assert back["location_name"] == ""  # no name: not still "Work"

    plugged = await _ok(me, vin, "plug_in")
    assert plugged["plugged_in"] is True and plugged["charging_state"] == "Charging"
    again = await _ok(me, vin, "plug_in")  # already plugged in: nothing changes
    assert again["charging_state"] == "Charging"
    refused = await _do(me, vin, "location", {"latitude": 0, "longitude": 0})
    assert refused.status_code == 409
    assert "unplug it before moving it" in refused.json()["error_description"]

    full = await _ok(me, vin, "battery", {"level": 100})  # at the limit: the charge completes
    assert full["charging_state"] == "Complete" and full["battery_level"] == 100
    await _ok(me, vin, "unplug")
    drained = await _ok(me, vin, "battery", {"level": 12.5})
    assert drained["battery_level"] == 12.5
    shown = await me.get(_path(vin), scopes=DEVICE_DATA)
    assert (
        shown.json()["battery_level"] == 12.5 and shown.json()["charging_state"] == "Disconnected"
    )


async def test_bad_input_is_a_clear_400(app: App) -> None:
    me = await driver(app)
    vin = me.asleep.vin
    for body, member in (
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": -181}, "longitude"),
        ({"latitude": "north", "longitude": 0}, "latitude"),
        ({"latitude": 0}, "longitude"),
        ({"latitude": 0, "longitude": 0, "speed": 3}, "speed"),
        ({"latitude": True, "longitude": 0}, "latitude"),  # a boolean is not a number
        ({"latitude": 0, "longitude": False}, "longitude"),
        ({"latitude": "45", "longitude": 0}, "latitude"),
    ):
        answer = await _do(me, vin, "location", body)
        assert answer.status_code == 400, answer.text
        assert member in answer.json()["error_description"]
    for level in (-1, 100.5, "full", True, False, "50"):
        answer = await _do(me, vin, "battery", {"level": level})
        assert answer.status_code == 400, answer.text
        assert "level" in answer.json()["error_description"]
    raw = await me.post(
        _path(vin, "battery"), scopes=DEVICE_DATA, content=b'{"level": NaN}',
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    assert raw.status_code == 400, raw.text
    assert (await _do(me, "NOTAVIN", "unplug")).status_code == 404
    assert (await me.post(_path(vin, "fly"), scopes=DEVICE_DATA)).status_code in (404, 405)


async def test_only_the_owner_or_an_admin_may(app: App) -> None:
    me = await driver(app)
    other = await driver(app, (me.client_id, me.secret))
    vin = me.asleep.vin
    assert (await _do(other, vin, "plug_in")).status_code == 404  # not theirs: like none
    assert (await app.http.post(_path(vin, "plug_in"))).status_code == 401
    no_scope = await me.post(_path(vin, "plug_in"), scopes="openid")
    assert no_scope.status_code == 403, no_scope.text
    operator = await app.token(*await app.client(kind="operator", scopes="read write"))
    bearer = {"Authorization": f"Bearer {operator['access_token']}"}
    refused = await app.http.post(_path(vin, "plug_in"), headers=bearer)
    assert refused.status_code == 403
    assert "owner's token" in refused.json()["error_description"]
    admin = await app.token(*await app.client(kind="operator", scopes="voltgate:admin"))
    bearer = {"Authorization": f"Bearer {admin['access_token']}"}
    plugged = await app.http.post(_path(vin, "plug_in"), headers=bearer)
    assert plugged.status_code == 200 and plugged.json()["plugged_in"] is True
    mine = await me.get(_path(vin), scopes=DEVICE_DATA)
    assert mine.json()["plugged_in"] is True


async def test_outside_a_sandbox_there_are_no_controls(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings = Settings(data_dir=tmp_path, environment=Environment.PRODUCTION, master_key=key)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as http:
            answer = await http.post(_path("5YJ3E1EA7PF000001", "plug_in"))
    assert answer.status_code == 404
    assert not [path for path in application.openapi()["paths"] if path.startswith("/sandbox/")]
