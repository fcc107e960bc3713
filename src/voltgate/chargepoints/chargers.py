"""One world: every operator's charger at a site with a position is a public charge point, one
EVSE per connector, whose status follows the connector's state as its telemetry reports it.

`published(device)` runs right after a registration or a learned connector has committed
(devices call it), and again for every charger at start (`sync`): it stores the point or
replaces the one the charger has (same id), so it may run any number of times.

`readings(batch)` runs after each telemetry batch has committed, on the ingest path: one dict
look-up and compare per reading. Only a state that differs from the held one (a transition, or
the first reading this process sees) queues its charger; a task of its own then reads the
charger's point, maps each connector's state to OCPI's status and stores the EVSEs when a
status moved, so the stored status (what a search filters on) is the one shown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace

import structlog

from voltgate.chargepoints.rows import connector_id, evse_uid
from voltgate.chargepoints.service import ChargePoints
from voltgate.chargepoints.store import ChargePoint, Evse, PointConnector
from voltgate.clock import Clock
from voltgate.devices.store import Device
from voltgate.errors import NotFound
from voltgate.ids import new_id
from voltgate.sites.service import Sites
from voltgate.telemetry.store import Reading

log = structlog.get_logger("voltgate.chargepoints")

# A charger's connector state (telemetry.store.State) as OCPI 2.2.1's EVSE status.
STATUS_OF_STATE = {
    "available": "AVAILABLE",
    "preparing": "CHARGING",  # plugged in: in use
    "charging": "CHARGING",
    "discharging": "CHARGING",
    "suspended": "CHARGING",
    "finishing": "CHARGING",
    "faulted": "OUTOFORDER",
    "unavailable": "INOPERATIVE",
}
# A device's connector type as OCPI's standard, format and power type.
SHAPE_OF_TYPE = {
    "Type1": ("IEC_62196_T1", "CABLE", "AC_1_PHASE"),
    "Type2": ("IEC_62196_T2", "SOCKET", "AC_3_PHASE"),
    "CCS1": ("IEC_62196_T1_COMBO", "CABLE", "DC"),
    "CCS2": ("IEC_62196_T2_COMBO", "CABLE", "DC"),
    "CHAdeMO": ("CHADEMO", "CABLE", "DC"),
    "GBT": ("GBT_DC", "CABLE", "DC"),
    "NACS": ("TESLA_S", "CABLE", "DC"),
}
# A site's time zone as its country (ISO 3166 alpha-2, alpha-3): sites hold no country.
COUNTRY_OF_ZONE = {
    "Europe/Amsterdam": ("NL", "NLD"),
    "Europe/Athens": ("GR", "GRC"),
    "Europe/Berlin": ("DE", "DEU"),
    "Europe/Brussels": ("BE", "BEL"),
    "Europe/Budapest": ("HU", "HUN"),
    "Europe/Copenhagen": ("DK", "DNK"),
    "Europe/Dublin": ("IE", "IRL"),
    "Europe/Helsinki": ("FI", "FIN"),
    "Europe/Lisbon": ("PT", "PRT"),
    "Europe/London": ("GB", "GBR"),
    "Europe/Madrid": ("ES", "ESP"),
    "Europe/Oslo": ("NO", "NOR"),
    "Europe/Paris": ("FR", "FRA"),
    "Europe/Prague": ("CZ", "CZE"),
    "Europe/Rome": ("IT", "ITA"),
    "Europe/Stockholm": ("SE", "SWE"),
    "Europe/Vienna": ("AT", "AUT"),
    "Europe/Warsaw": ("PL", "POL"),
    "Europe/Zurich": ("CH", "CHE"),
}
UNKNOWN_COUNTRY = ("ZZ", "ZZZ")  # user-assigned codes: a site whose zone names no country

OperatorName = Callable[[str], Awaitable[str]]


class ChargerPoints:
    def __init__(
        self, points: ChargePoints, sites: Sites, operator_name: OperatorName, clock: Clock
    ) -> None:
        self._points = points
        self._sites = sites
        self._operator_name = operator_name
        self._clock = clock
        self._states: dict[tuple[str, int], Reading] = {}  # each connector's newest reading
        self._due: dict[str, None] = {}  # chargers whose statuses may have moved
        self._writer: asyncio.Task[None] | None = None

    async def published(self, device: Device) -> ChargePoint | None:
        """The charger's point as now stored, or None for one without a positioned site."""
        if device.site_id is None:
            return None
        try:
            site = await self._sites.find(device.site_id)
        except NotFound:
            return None
        if site.latitude is None or site.longitude is None:
            return None
        held = await self._points.by_device(device.id)
        point_id = held.id if held is not None else new_id("cpnt")
        alpha2, alpha3 = COUNTRY_OF_ZONE.get(site.timezone, UNKNOWN_COUNTRY)
        point = ChargePoint(
            id=point_id,
            name=site.name,
            address=site.address or "",
            city=_city(site.address),
            postal_code="",
            country=alpha3,
            latitude=site.latitude,
            longitude=site.longitude,
            operator=await self._operator_name(device.operator_id),
            opening_times=None,
            twentyfourseven=True,
            evses=self._evses(point_id, device, alpha2),
            device_id=device.id,
            site_id=site.id,
            operator_id=device.operator_id,
            updated_at=self._clock.now(),
        )
        if held is not None and _same(held, point):
            return held
        return await self._points.put(point)

    async def sync(self, devices: Iterable[Device]) -> int:
        """Publish each of these chargers (at start: any registered before this ran, or whose
        publishing failed); how many have a point."""
        count = 0
        for device in devices:
            try:
                count += await self.published(device) is not None
            except Exception:
                log.exception("charge_point_publish_failed", device_id=device.id)
        return count

    def readings(self, batch: Sequence[Reading]) -> None:
        """Committed readings: queue the chargers whose connector state moved."""
        states = self._states
        for reading in batch:
            key = (reading.device_id, reading.connector)
            held = states.get(key)
            if held is None or reading.at >= held.at:
                states[key] = reading
                if held is None or held.state != reading.state:
                    self._due[reading.device_id] = None
        if self._due and self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def flush(self) -> None:
        """Wait until every queued status is stored."""
        while self._writer is not None:
            await asyncio.wait({self._writer})

    async def _write(self) -> None:
        try:
            while self._due:
                due, self._due = list(self._due), {}
                for device_id in due:
                    try:
                        await self._follow(device_id)
                    except Exception:
                        log.exception("charge_point_status_failed", device_id=device_id)
        finally:
            self._writer = None

    async def _follow(self, device_id: str) -> None:
        point = await self._points.by_device(device_id)
        if point is None:
            return
        evses = tuple(
            Evse(e.uid, e.evse_id, self._status(device_id, e.connectors), e.connectors)
            for e in point.evses
        )
        if evses != point.evses:
            await self._points.set_evses(point.id, evses, self._clock.now())

    def _status(self, device_id: str, connectors: tuple[PointConnector, ...]) -> str:
        for connector in connectors:
            held = self._states.get((device_id, connector.number))
            if held is not None:
                return STATUS_OF_STATE.get(held.state, "UNKNOWN")
        return "UNKNOWN"

    def _evses(self, point_id: str, device: Device, country: str) -> tuple[Evse, ...]:
        evses = []
        known = [c for c in device.connectors if c.type in SHAPE_OF_TYPE and c.max_power_kw]
        for position, port in enumerate(known, 1):
            assert port.type is not None and port.max_power_kw is not None
            standard, shape, power_type = SHAPE_OF_TYPE[port.type]
            connector = PointConnector(
                connector_id(point_id, position, port.number),
                port.number,
                standard,
                shape,
                power_type,
                round(port.max_power_kw * 1000),
            )
            evses.append(
                Evse(
                    evse_uid(point_id, position),
                    f"{country}*VGT*E{device.serial}*{port.number}",
                    self._status(device.id, (connector,)),
                    (connector,),
                )
            )
        return tuple(evses)


def _same(held: ChargePoint, point: ChargePoint) -> bool:
    """Nothing shown differs (the time it was written aside)."""
    return held == replace(point, updated_at=held.updated_at)


def _city(address: str | None) -> str:
    """A site holds one address line: its last comma-separated part is the city, as written
    ("1 Harbour Way, Bristol"); none without a comma."""
    if not address or "," not in address:
        return ""
    return address.rsplit(",", 1)[1].strip()
