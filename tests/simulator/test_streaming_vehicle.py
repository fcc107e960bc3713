"""A sandbox vehicle streaming through a live listener: it takes the configuration the listener
pushes, says it runs it, sends each configured field at its interval and only when it moved
by `minimum_delta`, and says goodbye (asleep) when its physics sleeps."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tests.conftest import Backend
from tests.fleettelemetry.ingest.support import VIN, live_ingest
from voltgate.db.statements import Statement
from voltgate.fleettelemetry import protos
from voltgate.simulator.vehicles import StreamingVehicle
from voltgate.vehicles.physics import Policy, present
from voltgate.vehicles.seed import _model_3

_PAYLOADS = Statement("SELECT payload FROM vehicle_messages ORDER BY id")
_LINKS = Statement("SELECT status, reason FROM vehicle_connectivity ORDER BY id")


async def test_a_vehicle_streams_what_its_configuration_asks(
    backend: Backend, tmp_path: Path
) -> None:
    async with live_ingest(backend, tmp_path) as harness:
        harness.configs.fields = {
            "Soc": {"interval_seconds": 10, "minimum_delta": 1.0},
            "ChargeLimitSoc": {"interval_seconds": 1},
        }
        car = StreamingVehicle(VIN, harness.vehicle())
        vehicle = replace(_model_3("user", 1_000.0), vin=VIN, battery_level=50.0)
        policy = Policy(sleep_after=900, wake_seconds=10)
        seen = present(vehicle, 1_000.0, policy)
        await car.step(vehicle, seen, 1_000.0)  # connects, gets its configuration
        assert car.client.connected
        text = await car.client.texts.get()
        car.client.texts.put_nowait(text)
        await car.step(vehicle, seen, 1_000.0)  # applies it, sends both fields
        for at, level in ((1_001.0, 50.4), (1_005.0, 50.9), (1_010.0, 50.9), (1_020.0, 51.2)):
            moved = replace(vehicle, battery_level=level)
            await car.step(moved, present(moved, at, policy), at)
        assert await car.client.acknowledged(10)
        await harness.rows("vehicle_messages", 1)
        sent = [protos.signals(bytes(row[0]))[2] for row in await harness.db.reader.all(_PAYLOADS)]
        socs = [value for items in sent for name, value in items if name == "Soc"]
        # 50.4 and 50.9 come before Soc's 10 s interval; at 1,010 s it moved 0.9 (< 1.0).
        assert socs == [50.0, 51.2]
        limits = [value for items in sent for name, value in items if name == "ChargeLimitSoc"]
        assert limits == [vehicle.charge_limit]  # unchanged: sent once
        assert harness.configs.applied_versions == {VIN: "1"}

        asleep = present(vehicle, 1_000.0 + 10_000, policy)
        assert not asleep.online
        await car.step(vehicle, asleep, 11_000.0)
        assert not car.client.connected
        await harness.rows("vehicle_connectivity", 2)
        links = [(r[0], r[1]) for r in await harness.db.reader.all(_LINKS)]
        assert links == [("CONNECTED", None), ("DISCONNECTED", "asleep")]
