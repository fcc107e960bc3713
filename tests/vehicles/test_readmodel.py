"""Vehicles are read from memory: a change shows at once on the instance that made it and
within a second on another one (PostgreSQL + Redis); an instance whose copy is behind still
carries out a command on the vehicle as it is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import App, Backend
from tests.fixtures.instances import another_instance, seen_within
from tests.vehicles.support import driver
from voltgate.vehicles.catalog import find
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.seed import seed_vehicles
from voltgate.vehicles.service import Vehicles


@pytest.fixture
async def second(backend: Backend, app: App) -> AsyncIterator[App]:
    if backend.name == "sqlite":
        pytest.skip("instances hear each other's changes through Redis: one server per SQLite file")
    async with another_instance(backend, app) as instance:
        yield instance


def _unheard(app: App) -> Vehicles:
    """Vehicles changed straight in the database, as by an instance whose broadcast has not
    arrived yet."""
    owner = app.rt.owner.vehicles
    return Vehicles(SqlVehicleStore(app.rt.db), app.clock, owner.policy, keys=owner._keys)


def _limit(response: httpx.Response) -> int:
    limit: int = response.json()["response"]["charge_state"]["charge_limit_soc"]
    return limit


def _state(response: httpx.Response) -> str:
    state: str = response.json()["response"]["state"]
    return state


async def test_a_command_and_a_wake_up_show_at_once_here_and_within_a_second_there(
    app: App, second: App
) -> None:
    me = await driver(app)
    headers = await me.headers()
    car, parked = me.charging, me.asleep
    data = f"/api/1/vehicles/{car.id}/vehicle_data"
    vehicle = f"/api/1/vehicles/{parked.id}"

    async def there(path: str) -> httpx.Response:
        return await second.http.get(path, headers=headers)

    # The other instance holds both vehicles before they change.
    assert _limit(await there(data)) == 80
    assert _state(await there(vehicle)) == "asleep"

    limited = await app.http.post(
        f"/api/1/vehicles/{car.vin}/command/set_charge_limit",
        json={"percent": 65},
        headers=headers,
    )
    assert limited.json()["response"] == {"result": True, "reason": ""}
    assert _limit(await app.http.get(data, headers=headers)) == 65
    seen, delay = await seen_within(lambda: there(data), lambda r: _limit(r) == 65, within=1.0)
    assert _limit(seen) == 65 and delay < 1.0
    print(f"command seen on the other instance after {delay * 1000:.1f} ms")

    woken = await app.http.post(f"{vehicle}/wake_up", headers=headers)
    assert woken.status_code == 200 and _state(woken) == "asleep"  # waking takes wake_seconds
    for clock in (app.clock, second.clock):
        clock.advance(app.rt.owner.vehicles.policy.wake_seconds)
    assert _state(await app.http.get(vehicle, headers=headers)) == "online"
    seen, delay = await seen_within(
        lambda: there(vehicle), lambda r: _state(r) == "online", within=1.0
    )
    assert _state(seen) == "online" and delay < 1.0
    print(f"wake_up seen on the other instance after {delay * 1000:.1f} ms")


async def test_a_command_on_a_copy_that_is_behind_acts_on_the_vehicle_as_stored(
    app: App,
) -> None:
    me = await driver(app)
    stopped = await _unheard(app).command(me.user_id, me.charging.vin, find("charge_stop"), {})
    assert stopped == (True, "")
    held = {v.id: v for v in await app.rt.owner.vehicles.of_user(me.user_id)}
    assert held[me.charging.id].charging  # this instance has not heard of the stop

    # On this copy charge_start would be refused (is_charging); the stored vehicle is stopped.
    started = await me.command(me.charging, "charge_start")
    assert started.status_code == 200
    assert started.json()["response"] == {"result": True, "reason": ""}
    charge = (await me.data(me.charging)).json()["response"]["charge_state"]
    assert charge["charging_state"] == "Charging"
    history = (await me.get("/api/1/dx/charging/history")).json()["response"]
    assert history["totalResults"] == 1
    assert [s["stopReason"] for s in history["data"]] == ["stopped"]


async def test_a_vehicle_added_elsewhere_is_found_by_id_and_vin_at_once(app: App) -> None:
    me = await driver(app)
    other = await app.rt.identity.users.create("elsewhere@example.com", "correct horse battery")
    added = await seed_vehicles(_unheard(app), app.rt.identity.users, other.id)
    me.user_id = other.id
    for vehicle in added:
        for ref in (vehicle.id, vehicle.vin):
            found = await me.get(f"/api/1/vehicles/{ref}")
            assert found.status_code == 200, found.text
            assert found.json()["response"]["vin"] == vehicle.vin
