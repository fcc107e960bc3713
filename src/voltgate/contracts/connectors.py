"""Where a connector a user names is: the charger (device), its operator and the connector's
number on it. The contracts domain owns this port; the charge-point catalogue implements it
for be.ENERGISED's connector ids, and `DeviceConnectors` for ids made from the devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voltgate.devices.service import Devices
from voltgate.errors import NotFound

_MAX_ID = 200


@dataclass(frozen=True, slots=True)
class LocatedConnector:
    connector_id: str
    device_id: str
    operator_id: str
    number: int  # the connector's number on its device (what a command names)
    max_power_kw: float | None  # None: not reported yet
    charge_point_id: str


class Connectors(Protocol):
    async def locate(self, connector_id: str) -> LocatedConnector:
        """The connector behind `connector_id`; NotFound if there is none."""


class DeviceConnectors:
    """Connector ids `<device id>:<number>` over the registered chargers; the charge point is
    the charger itself."""

    def __init__(self, devices: Devices) -> None:
        self._devices = devices

    @staticmethod
    def connector_id(device_id: str, number: int) -> str:
        return f"{device_id}:{number}"

    async def locate(self, connector_id: str) -> LocatedConnector:
        device_id, _, number = connector_id[:_MAX_ID].rpartition(":")
        numbered = number.isascii() and number.isdigit()
        device = await self._devices.find(device_id) if numbered else None
        port = None
        if device is not None:
            port = next((c for c in device.connectors if c.number == int(number)), None)
        if device is None or port is None:
            raise NotFound(f"no connector {connector_id[:_MAX_ID]!r}")
        return LocatedConnector(
            connector_id=connector_id,
            device_id=device.id,
            operator_id=device.operator_id,
            number=port.number,
            max_power_kw=port.max_power_kw,
            charge_point_id=device.id,
        )
