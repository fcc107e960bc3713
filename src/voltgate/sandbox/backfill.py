"""The sandbox world's first 30 days, stored once: charging records and telemetry of every
charger, the vehicles' charging history (`history.py` plans them).

Once: a vehicle gets its past when it is created (before the Model 3 starts charging, so its
history lists in time order), a charger when it has no charging record and no reading yet. So a
restart, which keeps the world, adds nothing, and nothing is planned over data a charger or a
vehicle produced itself. Everything goes through the domains' services, in bulk: a transaction
per chunk of records or readings. A home energy site needs nothing: its history is computed
from its model since installation (`energy/history.py`).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from voltgate.charging.store import ChargingRecord, RecordFilter
from voltgate.devices.store import Device
from voltgate.runtime import Runtime
from voltgate.sandbox.history import (
    DAYS,
    HOME,
    Charge,
    Charger,
    charger_history,
    public_charges,
    vehicle_charges,
    vehicle_sessions,
)
from voltgate.simulator.physics import MODELS
from voltgate.telemetry.store import Reading
from voltgate.vehicles.store import Vehicle

SEED = 14  # the default: every sandbox's first month looks alike, relative to its first start
_RECORDS_CHUNK = 2_000  # charging records a transaction
_DAY = 86_400.0
_DC_MODELS = {model.name for model in MODELS if model.dc}


@dataclass(frozen=True, slots=True)
class Backfill:
    """One provisioning's history: its seed and the moment it ends (the first start)."""

    seed: int
    end: float

    @property
    def start(self) -> float:
        return self.end - DAYS * _DAY

    def rng(self, *path: object) -> random.Random:
        """The draws of one part of the world, independent of every other part's."""
        return random.Random(":".join(map(str, (self.seed, *path))))  # noqa: S311 - a plan

    def car_charges(self, car: Vehicle, zone: str, user_index: int) -> list[tuple[str, Charge]]:
        slot = car.seed_slot or 0
        rng = self.rng("vehicle", user_index, slot)
        end = min(self.end, car.last_active_at)  # parked asleep since then: nothing later
        return vehicle_charges(car, zone, self.start, end, rng)

    def vehicles(
        self, rt: Runtime, zone: str, user_index: int
    ) -> Callable[[list[Vehicle]], Awaitable[None]]:
        """What stores the past sessions of a user's vehicles as `seed_vehicles` creates them."""

        async def store(cars: list[Vehicle]) -> None:
            sessions = [
                session
                for car in cars
                for session in vehicle_sessions(car, self.car_charges(car, zone, user_index))
            ]
            sessions.sort(key=lambda s: s.started_at)
            await rt.owner.vehicles.add_history(sessions)

        return store

    async def chargers(
        self, rt: Runtime, operator_id: str, device_ids: Sequence[str], home: Home | None
    ) -> int:
        """The past of each charger that has none yet (the i-th of `device_ids` from the i-th
        part of the seed); the number of records stored."""
        records: list[ChargingRecord] = []
        readings: list[Reading] = []
        for index, device_id in enumerate(device_ids):
            device = await rt.fleet.devices.get(operator_id, device_id)
            if await _has_data(rt, device):
                continue
            charger, charges = await self._plan(rt, device, home, index)
            found = charger_history(charger, charges, self.rng("charger", index, "records"))
            records += found[0]
            readings += found[1]
        await rt.fleet.telemetry.add_history(readings)
        for first in range(0, len(records), _RECORDS_CHUNK):
            await rt.fleet.charging.add_history(records[first : first + _RECORDS_CHUNK])
        return len(records)

    async def _plan(
        self, rt: Runtime, device: Device, home: Home | None, index: int
    ) -> tuple[Charger, list[tuple[int, Charge]]]:
        # A connector learned without its power yet (a charger registered without any) has no
        # past to make up.
        connectors = tuple(
            (c.number, c.max_power_kw) for c in device.connectors if c.max_power_kw is not None
        )
        if device.site_id is None:  # a home charger: its owner's Model 3, every evening at home
            zone = home.zone if home is not None else "UTC"
            charger = Charger(device.id, device.operator_id, zone, connectors, dc=False)
            if home is None or home.user_id != device.owner_user_id or not connectors:
                return charger, []
            charges = self.car_charges(home.car, zone, home.user_index)
            return charger, [(connectors[0][0], c) for place, c in charges if place == HOME]
        site = await rt.fleet.sites.get(device.operator_id, device.site_id)
        charger = Charger(
            device.id, device.operator_id, site.timezone, connectors, device.model in _DC_MODELS
        )
        return charger, public_charges(charger, self.start, self.end, self.rng("charger", index))


@dataclass(frozen=True, slots=True)
class Home:
    """Whose home charger it is: the user, their Model 3 that charges on it, their time zone."""

    user_id: str
    user_index: int
    car: Vehicle
    zone: str


async def _has_data(rt: Runtime, device: Device) -> bool:
    """Whether the charger has reported anything: a charging record or a reading."""
    which = RecordFilter(operator_id=device.operator_id, device_id=device.id)
    if (await rt.fleet.charging.page(which, 1, 1)).total:
        return True
    _, latest = await rt.fleet.telemetry.latest(device.operator_id, device.id)
    return bool(latest)
