"""Every stored vehicle streaming (`StreamingVehicle`), one process: the sandbox's cars.

Each looks at itself once a `tick`: the vehicles are read from the database (commands sent
through the API change them there), their present computed from the clock. Certificates come
from the telemetry CA, issued to each vehicle when it first starts, kept in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

import structlog

from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.fleettelemetry.ca import CertificateAuthority, client_context
from voltgate.fleettelemetry.client import VehicleClient
from voltgate.simulator.vehicles import StreamingVehicle
from voltgate.vehicles.physics import Policy, present
from voltgate.vehicles.repository import SqlVehicleStore

log = structlog.get_logger("voltgate.simulator")


class StreamingFleet:
    def __init__(self, settings: Settings, url: str, authority: CertificateAuthority) -> None:
        self._url = url
        self._authority = authority
        self._db = Database(settings)
        self._store = SqlVehicleStore(self._db)
        self._policy = Policy(settings.vehicle_sleep_after, settings.vehicle_wake_seconds)
        self.cars: dict[str, StreamingVehicle] = {}

    def _car(self, vin: str) -> StreamingVehicle:
        car = self.cars.get(vin)
        if car is None:
            cert, key = self._authority.issue_vehicle(vin)
            context = client_context(self._authority.cert_pem, cert, key)
            car = StreamingVehicle(vin, VehicleClient(self._url, vin, context))
            self.cars[vin] = car
        return car

    async def step(self) -> None:
        now = time.time()
        steps = [
            self._car(vehicle.vin).step(vehicle, present(vehicle, now, self._policy), now)
            for vehicle in await self._store.all()
        ]
        for outcome in await asyncio.gather(*steps, return_exceptions=True):
            if isinstance(outcome, Exception):
                log.warning("vehicle_step_failed", error=repr(outcome))

    async def run(self, stop: asyncio.Event, tick: float = 1.0) -> None:
        try:
            while not stop.is_set():
                await self.step()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), tick)
        finally:
            await self.close()

    async def close(self) -> None:
        for car in self.cars.values():
            with contextlib.suppress(Exception):
                await car.client.close(1000, "asleep")
        await self._db.dispose()
