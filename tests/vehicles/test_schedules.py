"""Charge schedules: `add_charge_schedule` with Tesla's body adds one (or replaces the one its
`id` names), `remove_charge_schedule {id}` removes it, and `vehicle_data` shows them in
`charge_schedule_data` when `endpoints` asks for it, on every later read."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.vehicles.support import Driver, driver
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.store import ChargeSchedule

DONE = {"response": {"result": True, "reason": ""}}
NIGHTS = {
    "days_of_week": "Weekdays",
    "enabled": True,
    "start_enabled": True,
    "start_time": 1380,
    "end_enabled": True,
    "end_time": 360,
    "lat": 37.4419,
    "lon": -122.143,
}


async def _add(me: Driver, body: dict[str, Any], scopes: str | None = None) -> dict[str, Any]:
    extra = {} if scopes is None else {"scopes": scopes}
    response = await me.command(me.charging, "add_charge_schedule", body, **extra)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def _schedules(me: Driver) -> list[dict[str, Any]]:
    response = await me.data(me.charging, params={"endpoints": "charge_schedule_data"})
    assert response.status_code == 200, response.text
    data = response.json()["response"]["charge_schedule_data"]
    assert data["max_num_charge_schedules"] == 10 and data["timestamp"] > 0
    schedules: list[dict[str, Any]] = data["charge_schedules"]
    return schedules


async def test_added_schedules_show_in_charge_schedule_data(app: App) -> None:
    me = await driver(app)
    assert await _schedules(me) == []
    everything = (await me.data(me.charging)).json()["response"]
    assert "charge_schedule_data" not in everything  # only when asked for, as Tesla answers

    assert await _add(me, NIGHTS) == DONE
    weekend = {**NIGHTS, "days_of_week": "sat, Sunday", "end_enabled": False, "one_time": True}
    del weekend["end_time"]
    assert await _add(me, weekend) == DONE
    first, second = await _schedules(me)
    assert first == {
        "id": int(app.clock.now()),  # the time it was added, as Tesla's command proxy makes it
        "name": "",
        "days_of_week": 62,  # Monday to Friday: bits 2 … 32
        "start_enabled": True,
        "start_time": 1380,
        "end_enabled": True,
        "end_time": 360,
        "one_time": False,
        "enabled": True,
        "latitude": 37.4419,
        "longitude": -122.143,
    }
    assert second["id"] == first["id"] + 1  # added in the same second: the next id
    assert second["days_of_week"] == 65 and second["one_time"] is True
    assert (second["end_enabled"], second["end_time"]) == (False, 0)

    # Kept in the database with the vehicle, not only in this process.
    stored = await SqlVehicleStore(app.rt.db).get(me.charging.id)
    assert stored is not None
    assert [s.id for s in stored.charge_schedules] == [first["id"], second["id"]]
    assert stored.charge_schedules[0] == ChargeSchedule(
        first["id"], 62, True, True, 1380, True, 360, False, 37.4419, -122.143
    )


async def test_an_id_replaces_that_schedule_and_remove_takes_it_away(app: App) -> None:
    me = await driver(app)
    await _add(me, NIGHTS)
    app.clock.advance(5)
    await _add(me, {**NIGHTS, "days_of_week": "All"})
    first, second = await _schedules(me)

    changed = {**NIGHTS, "id": first["id"], "enabled": False, "days_of_week": "Thursday,Saturday"}
    assert await _add(me, changed, scopes="vehicle_device_data vehicle_cmds") == DONE
    updated, unchanged = await _schedules(me)
    assert updated["id"] == first["id"] and unchanged == second
    assert updated["enabled"] is False and updated["days_of_week"] == 16 + 64

    removed = await me.command(me.charging, "remove_charge_schedule", {"id": first["id"]})
    assert removed.json() == DONE
    assert await _schedules(me) == [second]
    again = await me.command(me.charging, "remove_charge_schedule", {"id": first["id"]})
    assert again.json() == {"response": {"result": False, "reason": "no_such_schedule"}}
    assert await _schedules(me) == [second]


async def test_an_id_not_yet_used_adds_a_schedule_with_that_id(app: App) -> None:
    me = await driver(app)
    assert await _add(me, {**NIGHTS, "id": 42}) == DONE
    assert [s["id"] for s in await _schedules(me)] == [42]


async def test_at_most_ten_schedules(app: App) -> None:
    me = await driver(app)
    for _ in range(10):
        assert await _add(me, NIGHTS) == DONE
    eleventh = await _add(me, NIGHTS)
    assert eleventh == {"response": {"result": False, "reason": "max_schedules_reached"}}
    held = await _schedules(me)
    assert len(held) == 10
    # Replacing one of the ten is still possible.
    assert await _add(me, {**NIGHTS, "id": held[3]["id"], "start_time": 0}) == DONE
    assert (await _schedules(me))[3]["start_time"] == 0


async def test_where_a_schedule_applies_is_shown_only_with_vehicle_location(app: App) -> None:
    me = await driver(app)
    await _add(me, NIGHTS)
    asked = {"endpoints": "charge_schedule_data"}
    without = await me.data(me.charging, params=asked, scopes="vehicle_device_data")
    [shown] = without.json()["response"]["charge_schedule_data"]["charge_schedules"]
    assert "latitude" not in shown and "longitude" not in shown and shown["enabled"] is True
    located = await me.data(
        me.charging, params=asked, scopes="vehicle_device_data vehicle_location"
    )
    [shown] = located.json()["response"]["charge_schedule_data"]["charge_schedules"]
    assert (shown["latitude"], shown["longitude"]) == (37.4419, -122.143)
