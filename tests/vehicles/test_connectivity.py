"""A vehicle that streams Fleet Telemetry is as reachable as its connection: when its last
connectivity record says the socket dropped, `vehicle_data` and commands answer 408 at once,
`wake_up` does not wake it, and nothing about the vehicle changes; once it connects again it
answers. Time is a frozen clock the test moves."""

from __future__ import annotations

import uuid

from tests.conftest import App
from tests.vehicles.support import ALL_SCOPES, Driver, driver
from voltgate.fleettelemetry.ingest.repository import SqlIngestStore
from voltgate.fleettelemetry.ingest.store import Connectivity
from voltgate.vehicles.store import Vehicle

OFFLINE = "vehicle unavailable: vehicle is offline"


async def _connection(app: App, vin: str, status: str, reason: str | None = None) -> None:
    """A connectivity record as the listener writes it, and the API's links read afresh."""
    record = Connectivity(
        vin, str(uuid.uuid4()), status, app.clock.now(), None, reason, "test-ingest"
    )
    await SqlIngestStore(app.rt.db).connectivity(record)
    await app.rt.owner.links.refresh()


async def _stored(me: Driver, vehicle: Vehicle) -> Vehicle:
    found = [v for v in await me.app.rt.owner.vehicles.reread(me.user_id) if v.id == vehicle.id]
    assert len(found) == 1
    return found[0]


async def _state(me: Driver, vehicle: Vehicle) -> str:
    listed = await me.get(f"/api/1/vehicles/{vehicle.vin}")
    assert listed.status_code == 200, listed.text
    state: str = listed.json()["response"]["state"]
    return state


async def test_vehicle_data_on_an_offline_vehicle_is_408_and_does_not_wake_it(app: App) -> None:
    me = await driver(app)
    vehicle = me.asleep
    await _connection(app, vehicle.vin, "CONNECTED")
    await _connection(app, vehicle.vin, "DISCONNECTED", "dropped")
    before = await _stored(me, vehicle)

    data = await me.data(vehicle)
    assert data.status_code == 408, data.text
    assert data.json()["response"] is None
    assert data.json()["error_description"] == OFFLINE
    assert await _state(me, vehicle) == "offline"
    # Nothing can reach it: a wake-up is answered with its state and starts nothing.
    woken = await me.post(f"/api/1/vehicles/{vehicle.id}/wake_up")
    assert woken.status_code == 200, woken.text
    assert woken.json()["response"]["state"] == "offline"
    app.clock.advance(app.rt.owner.vehicles.policy.wake_seconds)
    assert (await me.data(vehicle)).status_code == 408
    assert await _stored(me, vehicle) == before  # not woken, not touched

    await _connection(app, vehicle.vin, "CONNECTED")  # it streams again: it answers
    data = await me.data(vehicle)
    assert data.status_code == 200, data.text
    assert data.json()["response"]["state"] == "online"


async def test_a_command_to_an_offline_vehicle_is_408_and_changes_nothing(app: App) -> None:
    me = await driver(app)
    vehicle = me.charging  # awake and charging by its own account
    limit = vehicle.charge_limit
    await _connection(app, vehicle.vin, "DISCONNECTED", "dropped")
    before = await _stored(me, vehicle)

    for name, body in (("set_charge_limit", {"percent": limit + 5}), ("charge_stop", None)):
        refused = await me.command(vehicle, name, body, scopes=ALL_SCOPES)
        assert refused.status_code == 408, f"{name}: {refused.text}"
        assert refused.json()["error_description"] == OFFLINE
    assert await _stored(me, vehicle) == before

    await _connection(app, vehicle.vin, "CONNECTED")
    data = (await me.data(vehicle)).json()["response"]["charge_state"]
    assert data["charge_limit_soc"] == limit
    assert data["charging_state"] == "Charging"
    done = await me.command(vehicle, "set_charge_limit", {"percent": limit + 5}, scopes=ALL_SCOPES)
    assert done.json() == {"response": {"result": True, "reason": ""}}
