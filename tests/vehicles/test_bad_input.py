"""Bad input to the vehicles API: a clear 4xx in the Tesla body with its numeric code, and the
vehicle exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.vehicles.support import driver

COMMANDING = "vehicle_device_data vehicle_cmds vehicle_charging_cmds"

SCHEDULE = {
    "days_of_week": "Weekdays",
    "enabled": True,
    "start_enabled": True,
    "start_time": 60,
    "end_enabled": False,
    "lat": 37.4419,
    "lon": -122.143,
}
BAD_COMMANDS: list[tuple[str, Any, str]] = [
    ("set_charge_limit", {"percent": 120}, "percent"),
    ("set_charge_limit", {"percent": 49}, "percent"),
    ("set_charge_limit", {"percent": "80"}, "percent"),
    ("set_charge_limit", {"percent": 80.5}, "percent"),
    ("set_charge_limit", {"percent": True}, "percent"),
    ("set_charge_limit", {}, "percent"),
    ("set_charge_limit", {"percent": 70, "vin": "x"}, "vin"),
    ("set_charging_amps", {"charging_amps": 0}, "charging_amps"),
    ("set_charging_amps", {"charging_amps": 33}, "between 1 and 32"),  # the Model 3's maximum
    ("set_charging_amps", {"charging_amps": None}, "charging_amps"),
    ("set_scheduled_charging", {"enable": True, "time": 1440}, "time"),
    ("set_scheduled_charging", {"enable": True, "time": -1}, "time"),
    ("set_scheduled_charging", {"enable": True}, "time"),
    ("set_scheduled_charging", {"enable": "yes", "time": 60}, "enable"),
    ("charge_stop", {"now": True}, "now"),
    ("charge_stop", [], "JSON object"),
    ("charge_port_door_open", {"open": True}, "open"),
    ("door_unlock", {"code": "1234"}, "code"),
    ("honk_horn", {"times": 2}, "times"),
    ("set_temps", {"driver_temp": 14.5, "passenger_temp": 21}, "driver_temp"),
    ("set_temps", {"driver_temp": 21, "passenger_temp": 28.5}, "passenger_temp"),
    ("set_temps", {"driver_temp": "21", "passenger_temp": 21}, "driver_temp"),
    ("set_temps", {"driver_temp": True, "passenger_temp": 21}, "driver_temp"),
    ("set_temps", {"driver_temp": 21}, "passenger_temp"),
    ("set_temps", {"driver_temp": 21, "passenger_temp": 21, "seat": 1}, "seat"),
    ("set_preconditioning_max", {}, "on"),
    ("set_preconditioning_max", {"on": 1}, "on"),
    ("set_preconditioning_max", {"on": True, "manual_override": "no"}, "manual_override"),
    ("add_charge_schedule", {**SCHEDULE, "days_of_week": "Caturday"}, "Caturday"),
    ("add_charge_schedule", {**SCHEDULE, "days_of_week": ""}, "days_of_week"),
    ("add_charge_schedule", {**SCHEDULE, "days_of_week": 62}, "days_of_week"),
    ("add_charge_schedule", {**SCHEDULE, "start_time": 1440}, "start_time"),
    ("add_charge_schedule", {**SCHEDULE, "start_time": None}, "start_time"),
    ("add_charge_schedule", {**SCHEDULE, "end_enabled": True}, "end_time"),
    ("add_charge_schedule", {**SCHEDULE, "lat": 91}, "lat"),
    ("add_charge_schedule", {**SCHEDULE, "lon": "13.4"}, "lon"),
    ("add_charge_schedule", {**SCHEDULE, "id": 0}, "id"),
    ("add_charge_schedule", {**SCHEDULE, "enabled": "true"}, "enabled"),
    ("add_charge_schedule", {**SCHEDULE, "name": "Night"}, "name"),
    ("add_charge_schedule", {k: v for k, v in SCHEDULE.items() if k != "lat"}, "lat"),
    ("remove_charge_schedule", {}, "id"),
    ("remove_charge_schedule", {"id": "1"}, "id"),
    ("open_sesame", {}, "unknown vehicle command"),
    ("charge_start%00", {}, "unknown vehicle command"),
]


async def _snapshot(app: App, headers: dict[str, str], vehicle_id: int) -> dict[str, Any]:
    response = await app.http.get(f"/api/1/vehicles/{vehicle_id}/vehicle_data", headers=headers)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()["response"]
    return data


@pytest.mark.parametrize(("name", "body", "named"), BAD_COMMANDS)
async def test_bad_commands_are_400_and_change_nothing(
    app: App, name: str, body: Any, named: str
) -> None:
    me = await driver(app)
    headers = await me.headers(COMMANDING)
    before = await _snapshot(app, headers, me.charging.id)
    response = await app.http.post(
        f"/api/1/vehicles/{me.charging.vin}/command/{name}", json=body, headers=headers
    )
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["response"] is None and error["code"] in (1001, 1002)
    assert named in error["error_description"]
    assert await _snapshot(app, headers, me.charging.id) == before


@pytest.mark.parametrize("content", [b"{", b"percent=80", b"\xff\xfe"])
async def test_a_body_that_is_not_json_is_400(app: App, content: bytes) -> None:
    me = await driver(app)
    response = await me.post(
        f"/api/1/vehicles/{me.charging.vin}/command/set_charge_limit",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["code"] == 1002


async def test_bad_input_to_an_asleep_vehicle_is_400_not_408(app: App) -> None:
    me = await driver(app)
    response = await me.command(me.asleep, "set_charge_limit", {"percent": 120})
    assert response.status_code == 400
    unknown = await me.command(me.asleep, "open_sesame", {}, scopes=COMMANDING)
    assert unknown.status_code == 400


@pytest.mark.parametrize(
    "ref", ["0", "-1", "abc", "99999999999999999999999", "5YJ3E1EB0PF00000I", "%00", "x" * 300]
)
async def test_unknown_vehicle_refs_are_404(app: App, ref: str) -> None:
    me = await driver(app)
    response = await me.get(f"/api/1/vehicles/{ref}/vehicle_data")
    assert response.status_code == 404, response.text
    assert response.json()["code"] == 3001 and response.json()["response"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"pageSize": 0},
        {"pageSize": 101},
        {"pageNo": -1},
        {"pageNo": "x"},
        {"sortOrder": "sideways"},
        {"vin": ""},
    ],
)
async def test_bad_history_queries_are_400(app: App, params: dict[str, Any]) -> None:
    me = await driver(app)
    response = await me.get("/api/1/dx/charging/history", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002 and response.json()["response"] is None


@pytest.mark.parametrize("params", [{"page": 0}, {"per_page": 0}, {"per_page": 101}])
async def test_bad_vehicle_list_pages_are_400(app: App, params: dict[str, Any]) -> None:
    me = await driver(app)
    response = await me.get("/api/1/vehicles", params=params)
    assert response.status_code == 400 and response.json()["response"] is None


HUGE = "4611686018427387904"  # past SQLite's and PostgreSQL's 64-bit integers once multiplied


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/1/vehicles", "page"),
        ("/api/1/vehicles", "per_page"),
        ("/api/1/dx/charging/history", "pageNo"),
        ("/api/1/dx/charging/history", "pageSize"),
    ],
)
async def test_out_of_range_numbers_on_lists_are_400_naming_them(
    app: App, path: str, name: str
) -> None:
    me = await driver(app)
    for value in (HUGE, "-" + HUGE, "1e309"):
        response = await me.get(path, params={name: value})
        assert response.status_code == 400, (name, value, response.text)
        body = response.json()
        assert body["code"] == 1002 and body["response"] is None
        assert body["error_description"].startswith(f"query.{name}: ")
