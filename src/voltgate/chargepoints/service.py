"""The public charge-point catalogue: a search by distance (be.ENERGISED's `cpsPaged`), a point
by id, and the connector a remote start names.

Searches are validated here and answered by one statement built once (repository.py); only
the page's points are decoded. `version()` moves whenever a point or a status changes in this
process's view (its own writes at once, other processes' when heard), so a caller may keep a
rendered answer while it is unchanged."""

from __future__ import annotations

import math
from itertools import islice

from voltgate.changes import Changes
from voltgate.chargepoints import generate, rows
from voltgate.chargepoints.store import (
    ANY_STANDARD,
    ANY_STATUS,
    STANDARDS,
    STATUSES,
    ChargePoint,
    ChargePointStore,
    Evse,
    GeoFilter,
    Hit,
    Located,
    NearbyPage,
    Search,
    standard_bit,
    status_bit,
)
from voltgate.errors import NotFound, ValidationFailed
from voltgate.readmodel import Tracked

TOPIC = "chargepoint"
MAX_RADIUS_KM = 100.0
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
MAX_POWER_KW = 10_000.0
GENERATED_CHUNK = 100_000
_BULK = "*bulk"  # the key a bulk load publishes (no point has it as id)


class ChargePoints:
    def __init__(self, store: ChargePointStore, changes: Changes) -> None:
        self._store = store
        self._tracked = Tracked(TOPIC, changes)

    def version(self) -> int:
        return self._tracked.versions.last

    async def nearby(self, filter: GeoFilter, limit: int, offset: int) -> NearbyPage:
        """The points within `filter.radius_km` of the position that pass its filters, nearest
        first (then in the order they were stored): `limit` of them from `offset`, and how many
        there are in all."""
        total, found = await self._store.nearby(search_of(filter, limit, offset))
        return NearbyPage(total, [Hit(point, km) for point, km in found])

    async def get(self, point_id: str) -> ChargePoint:
        point = None if "\x00" in point_id else await self._store.get(point_id[:64])
        if point is None:
            raise NotFound(f"no charge point {point_id[:64]!r}")
        return point

    async def by_device(self, device_id: str) -> ChargePoint | None:
        return await self._store.by_device(device_id)

    async def locate(self, connector_id: str) -> Located:
        """The point and EVSE of a connector by its id (as `PointConnector.id` shows it)."""
        if "\x00" not in connector_id and len(connector_id) <= 100:
            point = await self._store.get(rows.point_of(connector_id))
            for evse in () if point is None else point.evses:
                for connector in evse.connectors:
                    if connector.id == connector_id:
                        assert point is not None
                        return Located(point, evse, connector)
        raise NotFound(f"no connector {connector_id[:100]!r}")

    async def put(self, point: ChargePoint) -> ChargePoint:
        """Store a point (a device's replaces the one it had, keeping its id); as stored."""
        check_point(point)
        stored = await self._store.put(point)
        await self._tracked.changed([stored.id])
        return stored

    async def set_evses(self, point_id: str, evses: tuple[Evse, ...], at: float) -> None:
        await self._store.set_evses(point_id, evses, at)
        await self._tracked.changed([point_id])

    async def add_many(self, points: list[ChargePoint]) -> None:
        """Imported points in bulk (big transactions; ids must be new)."""
        for point in points:
            check_point(point)
        await self._store.add_rows([rows.values(point) for point in points])
        await self._tracked.changed([_BULK])

    async def generate(self, count: int, seed: int, at: float) -> None:
        """Add `count` believable public points over Europe (generate.py), the same for the
        same seed, a big transaction at a time."""
        made = generate.rows(count, seed, at)
        while chunk := list(islice(made, GENERATED_CHUNK)):
            await self._store.add_rows(chunk)
        await self._tracked.changed([_BULK])

    async def imported(self) -> int:
        """How many imported (and generated) points there are: the operators' chargers aside."""
        return await self._store.imported()

    async def generate_up_to(self, wanted: int, seed: int, at: float) -> int:
        """Generate points until `wanted` imported ones exist (a restart adds none); how many
        were added. Each addition draws from the seed moved by the count before it."""
        have = await self.imported()
        if have >= wanted:
            return 0
        await self.generate(wanted - have, seed + have, at)
        return wanted - have


def search_of(filter: GeoFilter, limit: int, offset: int) -> Search:
    """The search a filter and window ask for; ValidationFailed naming what is wrong."""
    _check_position(filter.latitude, filter.longitude)
    radius = filter.radius_km
    if not (math.isfinite(radius) and 0 < radius <= MAX_RADIUS_KM):
        raise ValidationFailed(f"radius must be more than 0 and at most {MAX_RADIUS_KM:g} km")
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationFailed(f"offset must be between 0 and {MAX_OFFSET}")
    statuses, standards, min_power = ANY_STATUS, ANY_STANDARD, 0
    if filter.status is not None:
        bit = status_bit(filter.status)
        if bit is None:
            raise ValidationFailed(f"status must be one of {', '.join(STATUSES)}")
        statuses = bit
    if filter.connector_standard is not None:
        bit = standard_bit(filter.connector_standard)
        if bit is None:
            raise ValidationFailed(
                f"connectorStandard must be an OCPI 2.2.1 connector type: {', '.join(STANDARDS)}"
            )
        standards = bit
    if filter.min_power_kw is not None:
        kw = filter.min_power_kw
        if not (math.isfinite(kw) and 0 <= kw <= MAX_POWER_KW):
            raise ValidationFailed(f"minPower must be between 0 and {MAX_POWER_KW:g} kW")
        min_power = math.ceil(round(kw * 1000.0, 3))
    return Search(
        filter.latitude, filter.longitude, radius, statuses, standards, min_power, limit, offset
    )


def _check_position(latitude: float, longitude: float) -> None:
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise ValidationFailed("latitude must be between -90 and 90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise ValidationFailed("longitude must be between -180 and 180")


def check_point(point: ChargePoint) -> None:
    _check_position(point.latitude, point.longitude)
    for evse in point.evses:
        if status_bit(evse.status) is None:
            raise ValidationFailed(f"EVSE {evse.evse_id}: status {evse.status!r} is not OCPI's")
        for connector in evse.connectors:
            if standard_bit(connector.standard) is None:
                raise ValidationFailed(f"connector standard {connector.standard!r} is not OCPI's")
