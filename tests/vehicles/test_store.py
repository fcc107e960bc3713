"""The vehicle store's contract, on SQLite and on PostgreSQL, for the SQL store and the read
model over it: every field comes back as stored (charge schedules, climate, remote start …),
a change is a compare-and-set on the version, and the sessions a change ends are finished."""

from __future__ import annotations

import secrets
from dataclasses import replace

import pytest

from tests.conftest import App
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.seed import seed_vehicles, vin
from voltgate.vehicles.store import (
    ChargeSchedule,
    SessionEnd,
    SessionStart,
    Transition,
    Vehicle,
    VehicleStore,
)

NIGHTS = ChargeSchedule(1_700_000_000, 62, True, True, 1380, True, 360, False, 52.52, 13.405)
SATURDAY = ChargeSchedule(42, 64, False, False, 0, True, 420, True, -33.87, 151.21)


def _store(app: App, kind: str) -> VehicleStore | SqlVehicleStore:
    if kind == "sql":
        return SqlVehicleStore(app.rt.db)
    return app.rt.owner.vehicles._store  # the read model the server answers from


async def _vehicle(app: App) -> Vehicle:
    """A new vehicle (not stored) unlike the seeded ones in every field the commands change."""
    email = f"{secrets.token_hex(4)}@example.com"
    user = await app.rt.identity.users.create(email, "correct horse battery")
    seeded, _, _ = await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, user.id)
    return replace(
        seeded,
        id=seeded.id + 1,
        vin=vin("5YJ3E1EB", "PF"),
        seed_slot=None,
        charging=False,
        charging_state="Stopped",
        session_id=None,
        session_start_level=None,
        locked=False,
        charge_port_open=True,
        climate_on=True,
        defrost_on=True,
        driver_temp=22.5,
        passenger_temp=19.0,
        climate_at=app.clock.now() - 30,
        remote_start_at=app.clock.now() - 5,
        charge_schedules=(NIGHTS, SATURDAY),
        command_signing="required",
        command_protocol='{"epoch": "00"}',
        version=1,
    )


@pytest.mark.parametrize("kind", ["sql", "readmodel"])
async def test_a_vehicle_comes_back_exactly_as_stored(app: App, kind: str) -> None:
    store = _store(app, kind)
    vehicle = await _vehicle(app)
    assert await store.add_all([vehicle])
    assert await store.get(vehicle.id) == vehicle
    assert await store.by_vin(vehicle.vin) == vehicle
    assert vehicle in await store.of_user(vehicle.user_id)
    assert vehicle in await store.reread(vehicle.user_id)
    # Another store over the same database reads the same row.
    assert await SqlVehicleStore(app.rt.db).get(vehicle.id) == vehicle
    assert not await store.add_all([replace(vehicle, id=vehicle.id + 1)])  # the VIN is taken


@pytest.mark.parametrize("kind", ["sql", "readmodel"])
async def test_a_change_is_a_compare_and_set_on_the_version(app: App, kind: str) -> None:
    store = _store(app, kind)
    vehicle = await _vehicle(app)
    await store.add_all([vehicle])
    now = app.clock.now()
    changed = replace(
        vehicle,
        charge_schedules=(SATURDAY,),
        climate_on=False,
        remote_start_at=None,
        charging=True,
        charging_state="Charging",
        command_protocol='{"epoch": "01"}',
        version=2,
    )
    start = SessionStart(now, vehicle.battery_level, vehicle.location_name)
    stored = await store.apply(Transition(vehicle, changed, start=start))
    assert stored is not None and stored.session_id is not None
    assert stored == replace(changed, session_id=stored.session_id)
    assert await store.get(vehicle.id) == stored
    # A change made on the old version loses and stores nothing.
    assert await store.apply(Transition(vehicle, replace(vehicle, version=2))) is None
    assert await store.get(vehicle.id) == stored

    end = SessionEnd(stored.session_id, now + 60, vehicle.battery_level + 1, 0.75, "stopped")
    stopped = replace(stored, charging=False, session_id=None, version=3)
    assert await store.apply(Transition(stored, stopped, ends=(end,))) == stopped
    sessions, total = await store.sessions(vehicle.user_id, vehicle.id, 0, 10, True)
    assert total == 1 and sessions[0].energy_kwh == 0.75 and sessions[0].stop_reason == "stopped"
