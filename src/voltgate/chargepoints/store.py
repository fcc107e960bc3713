"""The charge points' records and the storage interface they own (`repository.py` implements
it for SQLite, with its R*Tree, and PostgreSQL, with PostGIS).

Shapes and vocabularies follow OCPI 2.2.1's Locations module; the filters a search takes are
held per point as bit masks (any EVSE's status, any connector's standard) and its most powerful
connector, so the database applies them while it counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

# OCPI 2.2.1 Status (EVSE), ConnectorType, ConnectorFormat and PowerType.
STATUSES = (
    "AVAILABLE",
    "BLOCKED",
    "CHARGING",
    "INOPERATIVE",
    "OUTOFORDER",
    "PLANNED",
    "REMOVED",
    "RESERVED",
    "UNKNOWN",
)
STANDARDS = (
    "CHADEMO",
    "CHAOJI",
    "DOMESTIC_A",
    "DOMESTIC_B",
    "DOMESTIC_C",
    "DOMESTIC_D",
    "DOMESTIC_E",
    "DOMESTIC_F",
    "DOMESTIC_G",
    "DOMESTIC_H",
    "DOMESTIC_I",
    "DOMESTIC_J",
    "DOMESTIC_K",
    "DOMESTIC_L",
    "DOMESTIC_M",
    "DOMESTIC_N",
    "DOMESTIC_O",
    "GBT_AC",
    "GBT_DC",
    "IEC_60309_2_single_16",
    "IEC_60309_2_three_16",
    "IEC_60309_2_three_32",
    "IEC_60309_2_three_64",
    "IEC_62196_T1",
    "IEC_62196_T1_COMBO",
    "IEC_62196_T2",
    "IEC_62196_T2_COMBO",
    "IEC_62196_T3A",
    "IEC_62196_T3C",
    "NEMA_5_20",
    "NEMA_6_30",
    "NEMA_6_50",
    "NEMA_10_30",
    "NEMA_10_50",
    "NEMA_14_30",
    "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP",
    "PANTOGRAPH_TOP_DOWN",
    "TESLA_R",
    "TESLA_S",
)
FORMATS = ("SOCKET", "CABLE")
POWER_TYPES = ("AC_1_PHASE", "AC_2_PHASE", "AC_2_PHASE_SPLIT", "AC_3_PHASE", "DC")
# A filter left open (a point without EVSEs passes it too).
ANY_STATUS = ANY_STANDARD = -1
_STATUS_BIT = {name: 1 << i for i, name in enumerate(STATUSES)}
_STANDARD_BIT = {name: 1 << i for i, name in enumerate(STANDARDS)}


def status_bit(status: str) -> int | None:
    return _STATUS_BIT.get(status)


def standard_bit(standard: str) -> int | None:
    return _STANDARD_BIT.get(standard)


@dataclass(frozen=True, slots=True)
class PointConnector:
    id: str  # unique over all points: what a client passes to remoteStart
    number: int  # on its charger (a device's connector number), else its place in the EVSE
    standard: str
    format: str
    power_type: str
    max_electric_power: int  # W


@dataclass(frozen=True, slots=True)
class Evse:
    uid: str
    evse_id: str  # eMI3 form, e.g. DE*VGT*E0001*1
    status: str
    connectors: tuple[PointConnector, ...]


@dataclass(frozen=True, slots=True)
class ChargePoint:
    id: str
    name: str
    address: str
    city: str
    postal_code: str
    country: str  # ISO 3166 alpha-3
    latitude: float
    longitude: float
    operator: str
    opening_times: str | None  # free text (OCPI's regular hours as one line); None if unknown
    twentyfourseven: bool
    evses: tuple[Evse, ...]
    device_id: str | None  # an operator's charger; None: an imported public point
    site_id: str | None
    operator_id: str | None
    updated_at: float

    @property
    def masks(self) -> tuple[int, int, int]:
        return masks_of(self.evses)


def masks_of_ports(ports: tuple[tuple[Any, ...], ...]) -> tuple[int, int]:
    """The standards' bits and the most powerful maximum (W) of (standard, ..., W) tuples."""
    standards = power = 0
    for port in ports:
        standards |= _STANDARD_BIT[port[0]]
        power = max(power, port[-1])
    return standards, power


def masks_of(evses: tuple[Evse, ...]) -> tuple[int, int, int]:
    """What a search filters on: any EVSE's status and any connector's standard as bits, and
    the most powerful connector's maximum in W (0 without connectors)."""
    statuses = standards = power = 0
    for evse in evses:
        statuses |= _STATUS_BIT[evse.status]
        for connector in evse.connectors:
            standards |= _STANDARD_BIT[connector.standard]
            power = max(power, connector.max_electric_power)
    return statuses, standards, power


@dataclass(frozen=True, slots=True)
class GeoFilter:
    latitude: float
    longitude: float
    radius_km: float
    status: str | None = None  # any EVSE in this status
    connector_standard: str | None = None  # any connector of this standard
    min_power_kw: float | None = None  # its most powerful connector at least this


@dataclass(frozen=True, slots=True)
class Hit:
    point: ChargePoint
    distance_km: float


@dataclass(frozen=True, slots=True)
class NearbyPage:
    total: int
    hits: list[Hit]


@dataclass(frozen=True, slots=True)
class Located:
    point: ChargePoint
    evse: Evse
    connector: PointConnector


@dataclass(frozen=True, slots=True)
class Search:
    """A validated search as the store takes it: the filters as masks and a bound."""

    latitude: float
    longitude: float
    radius_km: float
    statuses: int  # ANY_STATUS when open
    standards: int  # ANY_STANDARD when open
    min_power: int  # W; 0 when open
    limit: int
    offset: int

    @property
    def is_open(self) -> bool:
        """No filter beyond the radius."""
        return self.statuses == ANY_STATUS and self.standards == ANY_STANDARD and not self.min_power


class ChargePointStore(Protocol):
    async def nearby(self, search: Search) -> tuple[int, list[tuple[ChargePoint, float]]]:
        """The total within the radius that pass the filters, and the window of them by
        distance (then insertion order), each with its great-circle distance in km."""

    async def get(self, point_id: str) -> ChargePoint | None: ...

    async def by_device(self, device_id: str) -> ChargePoint | None: ...

    async def put(self, point: ChargePoint) -> ChargePoint:
        """Insert the point, or for a device's point already stored (same device) replace its
        fields, keeping its id; the point as stored."""

    async def set_evses(self, point_id: str, evses: tuple[Evse, ...], at: float) -> None:
        """A device-backed point's EVSEs (statuses) now, with the masks that filter on them."""

    async def add_rows(self, values: Sequence[tuple[Any, ...]]) -> None:
        """Insert many imported points, as rows in `rows.INSERT_COLUMNS` order with new ids, in
        big transactions (a bulk load)."""

    async def imported(self) -> int:
        """How many imported points (no device) are stored."""
