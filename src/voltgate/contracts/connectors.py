"""Where a connector a user names is: the charger (device), its operator and the connector's
number on it. The contracts domain owns this port; the charge-point catalogue implements it
for be.ENERGISED's connector ids, and `DeviceConnectors` for ids made from the devices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voltgate.chargepoints.service import ChargePoints
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


class CatalogueConnectors:
    """be.ENERGISED's connector ids: the charge-point catalogue's. A point imported from
    elsewhere (no charger of an operator here behind it) cannot be started remotely."""

    def __init__(self, points: ChargePoints) -> None:
        self._points = points

    async def locate(self, connector_id: str) -> LocatedConnector:
        found = await self._points.locate(connector_id[:_MAX_ID])
        point = found.point
        if point.device_id is None or point.operator_id is None:
            raise NotFound(
                f"charge point {point.id!r} is not an operator's charger here: it cannot be "
                "started remotely"
            )
        return LocatedConnector(
            connector_id=connector_id,
            device_id=point.device_id,
            operator_id=point.operator_id,
            number=found.connector.number,
            max_power_kw=found.connector.max_electric_power / 1000,
            charge_point_id=point.id,
        )
