"""Commands sent to one vehicle at once: each is decided on the state the one before it left
(as the car takes them one at a time), and the run is written together, every caller answered
once it is stored; a change that ends a charging session goes in on its own."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import App
from tests.vehicles.support import ALL_SCOPES, Driver, driver
from voltgate.vehicles.repository import SqlVehicleStore


def _writes(app: App) -> int:
    return sum(writer.writes for writer in app.rt.db.writers().values())


async def _all_at_once(me: Driver, commands: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    headers = await me.headers(ALL_SCOPES)
    base = f"/api/1/vehicles/{me.charging.id}/command"
    answers = await asyncio.gather(
        *(me.app.http.post(f"{base}/{name}", json=body, headers=headers) for name, body in commands)
    )
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return [a.json()["response"] for a in answers]


async def test_each_command_is_decided_on_what_the_one_before_it_left(app: App) -> None:
    me = await driver(app)
    # The second finds the limit already set by the first: the car would say so too.
    first, second = await _all_at_once(
        me, [("set_charge_limit", {"percent": 95}), ("set_charge_limit", {"percent": 95})]
    )
    assert (first, second) == (
        {"result": True, "reason": ""},
        {"result": False, "reason": "already_set"},
    )


async def test_a_run_of_commands_is_stored_in_fewer_writes_with_every_effect(app: App) -> None:
    me = await driver(app)
    before = await SqlVehicleStore(app.rt.db).get(me.charging.id)
    assert before is not None
    writes = _writes(app)
    commands: list[tuple[str, Any]] = [("honk_horn", None)] * 10
    commands += [("door_unlock", None), ("set_temps", {"driver_temp": 23, "passenger_temp": 19})]
    commands += [("flash_lights", None)] * 10
    answers = await _all_at_once(me, commands)
    assert all(a["result"] for a in answers), answers

    stored = await SqlVehicleStore(app.rt.db).get(me.charging.id)
    assert stored is not None
    assert stored.version == before.version + len(commands)  # each one a step of its own
    assert not stored.locked and (stored.driver_temp, stored.passenger_temp) == (23, 19)
    assert _writes(app) - writes < len(commands)  # but written together


async def test_a_charge_stopped_among_other_commands_ends_its_session(app: App) -> None:
    me = await driver(app)
    commands: list[tuple[str, Any]] = [("honk_horn", None)] * 5 + [("charge_stop", None)]
    commands += [("flash_lights", None)] * 5 + [("charge_start", None)]
    answers = await _all_at_once(me, commands)
    assert all(a["result"] for a in answers), answers

    headers = await me.headers(ALL_SCOPES)
    history = await app.http.get("/api/1/dx/charging/history", headers=headers)
    stopped = history.json()["response"]["data"]
    assert [s["stopReason"] for s in stopped] == ["stopped"]
    data = (await me.data(me.charging)).json()["response"]["charge_state"]
    assert data["charging_state"] == "Charging"  # started again, as the last command asked
