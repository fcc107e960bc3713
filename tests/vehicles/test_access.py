"""Who reaches which vehicle, with which scopes: a user's delegated token reaches only that
user's vehicles, the location only with `vehicle_location`, commands only with a command scope;
every other token kind is refused by name."""

from __future__ import annotations

import pytest

from tests.conftest import App
from tests.vehicles.support import ALL_SCOPES, driver
from voltgate.vehicles.schemas import LOCATION_FIELDS


async def test_device_data_alone_reads_the_vehicle_but_not_where_it_is(app: App) -> None:
    me = await driver(app)
    response = await me.data(me.charging, scopes="vehicle_device_data")
    assert response.status_code == 200, response.text
    data = response.json()["response"]
    assert data["vin"] == me.charging.vin
    assert data["charge_state"]["battery_level"] == 55
    assert data["charge_state"]["charging_state"] == "Charging"
    assert data["drive_state"]["timestamp"] > 0
    assert not set(LOCATION_FIELDS) & set(data["drive_state"])

    located = await me.data(me.charging, scopes="vehicle_device_data vehicle_location")
    drive = located.json()["response"]["drive_state"]
    assert (drive["latitude"], drive["longitude"]) == (37.4419, -122.1430)
    assert set(LOCATION_FIELDS) <= set(drive)


async def test_device_data_alone_cannot_command_naming_the_missing_scope(app: App) -> None:
    me = await driver(app)
    response = await me.command(me.charging, "charge_stop", scopes="vehicle_device_data")
    assert response.status_code == 403
    body = response.json()
    assert body["response"] is None and body["code"] == 2003
    assert "vehicle_charging_cmds" in body["error_description"]
    assert "vehicle_cmds" in body["error_description"]
    # Nothing happened: it is still charging.
    after = await me.data(me.charging)
    assert after.json()["response"]["charge_state"]["charging_state"] == "Charging"


CHARGING_COMMANDS: list[tuple[str, object]] = [
    ("set_charging_amps", {"charging_amps": 10}),
    ("charge_port_door_open", None),
    ("set_scheduled_charging", {"enable": False}),
    (
        "add_charge_schedule",
        {
            "days_of_week": "All",
            "enabled": True,
            "start_enabled": False,
            "end_enabled": False,
            "lat": 1.5,
            "lon": 2,
        },
    ),
]
VEHICLE_COMMANDS: list[tuple[str, object]] = [
    ("door_lock", None),
    ("door_unlock", None),
    ("honk_horn", None),
    ("flash_lights", None),
    ("remote_start_drive", None),
    ("auto_conditioning_start", None),
    ("auto_conditioning_stop", None),
    ("set_temps", {"driver_temp": 20, "passenger_temp": 20}),
    ("set_preconditioning_max", {"on": True}),
]


@pytest.mark.parametrize("scope", ["vehicle_cmds", "vehicle_charging_cmds"])
async def test_either_command_scope_sends_charging_commands(app: App, scope: str) -> None:
    me = await driver(app)
    for name, body in CHARGING_COMMANDS:
        response = await me.command(me.charging, name, body, scopes=scope)
        assert response.status_code == 200, (name, response.text)
        assert response.json() == {"response": {"result": True, "reason": ""}}, name


@pytest.mark.parametrize(("name", "body"), VEHICLE_COMMANDS)
async def test_vehicle_commands_need_vehicle_cmds_naming_it(
    app: App, name: str, body: object
) -> None:
    me = await driver(app)
    scopes = "vehicle_device_data vehicle_charging_cmds"
    before = (await me.data(me.charging, scopes=scopes)).json()["response"]
    refused = await me.command(me.charging, name, body, scopes=scopes)
    assert refused.status_code == 403, refused.text
    error = refused.json()
    assert error["response"] is None and error["code"] == 2003
    assert error["error_description"] == "this request needs the scope vehicle_cmds"
    assert 'scope="vehicle_cmds"' in refused.headers["www-authenticate"]
    after = (await me.data(me.charging, scopes=scopes)).json()["response"]
    assert after["vehicle_state"] == before["vehicle_state"]
    assert after["climate_state"] == before["climate_state"]
    done = await me.command(me.charging, name, body, scopes="vehicle_cmds")
    assert done.status_code == 200 and done.json()["response"]["result"] is True, done.text


async def test_vehicle_data_needs_vehicle_device_data(app: App) -> None:
    me = await driver(app)
    response = await me.data(me.charging, scopes="vehicle_location vehicle_cmds")
    assert response.status_code == 403 and response.json()["code"] == 2003
    assert "vehicle_device_data" in response.json()["error_description"]


async def test_charging_history_needs_vehicle_charging_cmds(app: App) -> None:
    me = await driver(app)
    response = await me.get("/api/1/dx/charging/history", scopes="vehicle_device_data")
    assert response.status_code == 403 and response.json()["code"] == 2003
    assert "vehicle_charging_cmds" in response.json()["error_description"]


async def test_listing_needs_some_vehicle_scope(app: App) -> None:
    me = await driver(app)
    assert (await me.get("/api/1/vehicles", scopes="vehicle_location")).status_code == 200
    refused = await me.get("/api/1/vehicles", scopes="openid")
    assert refused.status_code == 403 and refused.json()["code"] == 2003


async def test_another_users_vehicle_is_404_exactly_like_a_missing_one(app: App) -> None:
    me = await driver(app)
    other = await driver(app, (me.client_id, me.secret))  # same app, another user
    mine = await me.get("/api/1/vehicles")
    assert {v["vin"] for v in mine.json()["response"]} == {
        me.charging.vin,
        me.asleep.vin,
        me.signed.vin,
    }
    assert mine.json()["count"] == 3

    missing = await me.get("/api/1/vehicles/1000000000000001")
    assert missing.status_code == 404
    for ref in (other.charging.id, other.charging.vin, other.asleep.vin.lower()):
        for path in ("", "/vehicle_data"):
            response = await me.get(f"/api/1/vehicles/{ref}{path}")
            assert response.status_code == 404, (ref, path)
            assert response.json()["code"] == missing.json()["code"] == 3001
            assert response.json()["response"] is None
        assert (await me.post(f"/api/1/vehicles/{ref}/wake_up")).status_code == 404
        stop = await me.post(f"/api/1/vehicles/{ref}/command/charge_stop")
        assert stop.status_code == 404
    foreign = await me.get("/api/1/dx/charging/history", params={"vin": other.charging.vin})
    assert foreign.status_code == 404
    # The other user's vehicle went on charging, untouched.
    theirs = await other.data(other.charging)
    assert theirs.json()["response"]["charge_state"]["charging_state"] == "Charging"


@pytest.mark.parametrize("kind", ["operator", "partner"])
async def test_other_token_kinds_are_403_naming_the_kind(app: App, kind: str) -> None:
    me = await driver(app)
    cid, secret = await app.client(kind=kind, scopes=ALL_SCOPES.replace("openid ", ""))
    token = (await app.token(cid, secret))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (
        ("GET", "/api/1/vehicles"),
        ("GET", f"/api/1/vehicles/{me.charging.id}/vehicle_data"),
        ("POST", f"/api/1/vehicles/{me.charging.id}/wake_up"),
        ("POST", f"/api/1/vehicles/{me.charging.vin}/command/charge_stop"),
        ("GET", "/api/1/dx/charging/history"),
    ):
        response = await app.http.request(method, path, headers=headers)
        assert response.status_code == 403, (path, response.text)
        body = response.json()
        assert body["code"] == 2003 and body["response"] is None
        assert "third_party" in body["error_description"]
        assert kind in body["error_description"]


async def test_no_token_is_401(app: App) -> None:
    response = await app.http.get("/api/1/vehicles")
    assert response.status_code == 401
    assert response.json()["response"] is None and response.json()["code"] == 2001


async def test_endpoints_picks_sections_and_location_data_needs_the_scope(app: App) -> None:
    me = await driver(app)
    asked = {"endpoints": "charge_state;location_data"}
    full = await me.data(me.charging, params=asked, scopes="vehicle_device_data vehicle_location")
    data = full.json()["response"]
    assert {"charge_state", "drive_state"} <= set(data) and "climate_state" not in data
    assert data["drive_state"]["latitude"] == 37.4419
    blind = await me.data(me.charging, params=asked, scopes="vehicle_device_data")
    assert not set(LOCATION_FIELDS) & set(blind.json()["response"]["drive_state"])
    # Without location_data in `endpoints`, no location even with the scope (as Tesla does).
    only_charge = await me.data(
        me.charging,
        params={"endpoints": "charge_state"},
        scopes="vehicle_device_data vehicle_location",
    )
    assert "drive_state" not in only_charge.json()["response"]
    for bad in ("charge_state;secrets", ";", ""):
        refused = await me.data(me.charging, params={"endpoints": bad})
        assert refused.status_code == 400, bad
        assert refused.json()["code"] == 1002
