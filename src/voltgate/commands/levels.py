"""The vehicle's state of charge as telemetry last reported it (`ChargeLevels`)."""

from __future__ import annotations

from voltgate.commands.store import Level
from voltgate.devices.store import Device
from voltgate.telemetry.service import Telemetry


class TelemetryLevels:
    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    async def soc(self, device: Device, connector: int, since: float) -> Level | None:
        _, readings = await self._telemetry.latest(device.operator_id, device.id)
        for reading in readings:
            if reading.connector == connector and reading.soc is not None and reading.at >= since:
                return reading.soc, reading.at
        return None
