"""Tesla's vehicle commands (`vehicle_cmds`) and the charge port door: each answers `result`,
changes the vehicle, and the change shows in `vehicle_data` (the section the car reports it in)
and in every later read. Time is a frozen clock the test moves."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.vehicles.support import ALL_SCOPES, UNAVAILABLE, Driver, driver
from voltgate.vehicles.store import Vehicle

DONE = {"response": {"result": True, "reason": ""}}


async def _send(me: Driver, vehicle: Vehicle, name: str, body: Any = None) -> dict[str, Any]:
    response = await me.command(vehicle, name, body, scopes=ALL_SCOPES)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _section(me: Driver, vehicle: Vehicle, name: str) -> dict[str, Any]:
    response = await me.data(vehicle)
    assert response.status_code == 200, response.text
    section: dict[str, Any] = response.json()["response"][name]
    return section


async def test_door_unlock_and_lock_show_in_vehicle_state(app: App) -> None:
    me = await driver(app)
    assert (await _section(me, me.charging, "vehicle_state"))["locked"] is True
    assert await _send(me, me.charging, "door_unlock") == DONE
    assert (await _section(me, me.charging, "vehicle_state"))["locked"] is False
    app.clock.advance(60)
    assert (await _section(me, me.charging, "vehicle_state"))["locked"] is False  # kept
    assert await _send(me, me.charging, "door_lock") == DONE
    assert (await _section(me, me.charging, "vehicle_state"))["locked"] is True
    assert await _send(me, me.charging, "door_lock") == DONE  # already locked: still true


@pytest.mark.parametrize("name", ["honk_horn", "flash_lights"])
async def test_horn_and_lights_answer_true_and_keep_the_vehicle_awake(app: App, name: str) -> None:
    me = await driver(app)
    await me.wake(me.asleep)
    sleep_after = app.rt.owner.vehicles.policy.sleep_after
    app.clock.advance(sleep_after - 10)
    assert await _send(me, me.asleep, name) == DONE
    app.clock.advance(sleep_after - 1)  # asleep by now, had nothing been sent
    assert (await me.data(me.asleep)).status_code == 200
    app.clock.advance(1)
    assert (await me.data(me.asleep)).status_code == 408


async def test_remote_start_shows_in_vehicle_state_for_two_minutes(app: App) -> None:
    me = await driver(app)
    state = await _section(me, me.charging, "vehicle_state")
    assert state["remote_start"] is False and state["remote_start_enabled"] is True
    assert await _send(me, me.charging, "remote_start_drive") == DONE
    assert (await _section(me, me.charging, "vehicle_state"))["remote_start"] is True
    app.clock.advance(119)
    assert (await _section(me, me.charging, "vehicle_state"))["remote_start"] is True
    app.clock.advance(2)
    assert (await _section(me, me.charging, "vehicle_state"))["remote_start"] is False


async def test_climate_brings_the_cabin_to_the_setpoint_and_off_it_cools(app: App) -> None:
    me = await driver(app)
    temps = {"driver_temp": 22.5, "passenger_temp": 20}
    assert await _send(me, me.charging, "set_temps", temps) == DONE
    climate = await _section(me, me.charging, "climate_state")
    assert climate["driver_temp_setting"] == 22.5 and climate["passenger_temp_setting"] == 20.0
    assert climate["is_climate_on"] is False and climate["fan_status"] == 0
    assert climate["inside_temp"] == 19.5
    assert (climate["min_avail_temp"], climate["max_avail_temp"]) == (15.0, 28.0)

    assert await _send(me, me.charging, "auto_conditioning_start") == DONE
    climate = await _section(me, me.charging, "climate_state")
    assert climate["is_climate_on"] is True and climate["is_auto_conditioning_on"] is True
    assert climate["fan_status"] > 0 and climate["defrost_mode"] == 0
    app.clock.advance(1800)
    warm = (await _section(me, me.charging, "climate_state"))["inside_temp"]
    assert 22.2 <= warm <= 22.5  # three time constants: within 5 % of the way left

    assert await _send(me, me.charging, "auto_conditioning_stop") == DONE
    climate = await _section(me, me.charging, "climate_state")
    assert climate["is_climate_on"] is False and climate["inside_temp"] == warm
    app.clock.advance(2 * 3600)
    cooled = (await _section(me, me.charging, "climate_state"))["inside_temp"]
    assert 14.0 < cooled < 18.0  # towards the outside's 14 °C


async def test_climate_keeps_the_vehicle_awake_until_it_is_turned_off(app: App) -> None:
    me = await driver(app)
    await me.wake(me.asleep)
    sleep_after = app.rt.owner.vehicles.policy.sleep_after
    await _send(me, me.asleep, "auto_conditioning_start")
    app.clock.advance(3 * sleep_after)
    assert (await _section(me, me.asleep, "climate_state"))["is_climate_on"] is True
    await _send(me, me.asleep, "auto_conditioning_stop")
    app.clock.advance(sleep_after)
    assert (await me.data(me.asleep)).status_code == 408


async def test_max_defrost_turns_climate_on_and_off_leaves_it_running(app: App) -> None:
    me = await driver(app)
    body = {"on": True, "manual_override": True}
    assert await _send(me, me.charging, "set_preconditioning_max", body) == DONE
    climate = await _section(me, me.charging, "climate_state")
    assert climate["is_climate_on"] is True and climate["defrost_mode"] == 2
    assert climate["is_front_defroster_on"] is True and climate["is_rear_defroster_on"] is True
    app.clock.advance(3600)
    assert (await _section(me, me.charging, "climate_state"))["inside_temp"] > 27.5  # heats hard

    assert await _send(me, me.charging, "set_preconditioning_max", {"on": False}) == DONE
    climate = await _section(me, me.charging, "climate_state")
    assert climate["defrost_mode"] == 0 and climate["is_front_defroster_on"] is False
    assert climate["is_climate_on"] is True  # back to the setpoint, still running
    await _send(me, me.charging, "auto_conditioning_stop")
    assert (await _section(me, me.charging, "climate_state"))["is_climate_on"] is False


async def test_the_charge_port_door_opens_and_closes_when_no_cable_is_in(app: App) -> None:
    me = await driver(app)
    await me.wake(me.asleep)  # unplugged
    assert (await _section(me, me.asleep, "charge_state"))["charge_port_door_open"] is False
    assert await _send(me, me.asleep, "charge_port_door_open") == DONE
    assert (await _section(me, me.asleep, "charge_state"))["charge_port_door_open"] is True
    assert await _send(me, me.asleep, "charge_port_door_close") == DONE
    assert (await _section(me, me.asleep, "charge_state"))["charge_port_door_open"] is False

    # Plugged in: the door is open around the cable and cannot close.
    refused = await _send(me, me.charging, "charge_port_door_close")
    assert refused == {"response": {"result": False, "reason": "cable_connected"}}
    charge = await _section(me, me.charging, "charge_state")
    assert charge["charge_port_door_open"] is True and charge["charging_state"] == "Charging"
    assert await _send(me, me.charging, "charge_port_door_open") == DONE


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("door_unlock", None),
        ("honk_horn", None),
        ("auto_conditioning_start", None),
        ("set_temps", {"driver_temp": 18, "passenger_temp": 18}),
        ("charge_port_door_open", None),
        ("remote_start_drive", None),
    ],
)
async def test_an_asleep_vehicle_answers_408_and_nothing_changes(
    app: App, name: str, body: Any
) -> None:
    me = await driver(app)
    response = await me.command(me.asleep, name, body, scopes=ALL_SCOPES)
    assert response.status_code == 408, response.text
    assert response.json()["error_description"] == UNAVAILABLE
    assert response.json()["response"] is None
    await me.wake(me.asleep)
    data = (await me.data(me.asleep)).json()["response"]
    assert data["vehicle_state"]["locked"] is True
    assert data["vehicle_state"]["remote_start"] is False
    assert data["climate_state"]["is_climate_on"] is False
    assert data["climate_state"]["driver_temp_setting"] == 21.0
    assert data["charge_state"]["charge_port_door_open"] is False
