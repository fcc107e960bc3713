"""Charge points: `cpsPaged` (nearest first around a position, OCPI 2.2.1 shapes) and `cp`.

The charge points are the operators' chargers (and imported public ones): an EVSE's status is
its connector's live state, as the charger's telemetry last set it.
"""

from __future__ import annotations

from typing import Any

from voltgate.chargepoints.service import ChargePoints
from voltgate.chargepoints.store import ChargePoint, Evse, GeoFilter
from voltgate.dialects.beenergised.context import Info
from voltgate.dialects.beenergised.paging import page, window
from voltgate.errors import NotFound, ValidationFailed

DEFAULT_RADIUS_KM = 5.0  # be.ENERGISED's own example: stations within 5 kilometres


def _evse(evse: Evse) -> dict[str, Any]:
    return {
        "uid": evse.uid,
        "evseId": evse.evse_id,
        "status": evse.status,
        "connectors": [
            {
                "id": c.id,
                "standard": c.standard,
                "format": c.format,
                "powerType": c.power_type,
                "maxElectricPower": c.max_electric_power,
            }
            for c in evse.connectors
        ],
    }


def shown(point: ChargePoint, distance: float | None) -> dict[str, Any]:
    return {
        "id": point.id,
        "name": point.name,
        "address": point.address,
        "city": point.city,
        "postalCode": point.postal_code,
        "country": point.country,
        "latitude": point.latitude,
        "longitude": point.longitude,
        "distance": None if distance is None else round(distance, 3),
        "operator": point.operator,
        "openingTimes": point.opening_times,
        "twentyfourseven": point.twentyfourseven,
        "evses": [_evse(e) for e in point.evses],
    }


class Points:
    def __init__(self, points: ChargePoints) -> None:
        self._points = points

    async def cps_paged(
        self,
        _root: None,
        _info: Info,
        filter: dict[str, Any] | None = None,
        pagination: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        limit, offset = window(pagination)
        asked = filter or {}
        position = asked.get("position")
        if position is None:
            raise ValidationFailed("filter.position is required: charge points are found near one")
        radius = asked.get("radius")
        found = await self._points.nearby(
            GeoFilter(
                latitude=position["latitude"],
                longitude=position["longitude"],
                radius_km=DEFAULT_RADIUS_KM if radius is None else radius,
                status=asked.get("status"),
                connector_standard=asked.get("connectorStandard"),
                min_power_kw=asked.get("minPower"),
            ),
            limit,
            offset,
        )
        data = [shown(hit.point, hit.distance_km) for hit in found.hits]
        return page(found.total, limit, offset, data)

    async def cp(self, _root: None, _info: Info, id: str) -> dict[str, Any] | None:
        try:
            return shown(await self._points.get(id), None)
        except NotFound:
            return None

    def resolvers(self) -> dict[str, dict[str, Any]]:
        return {"Query": {"cpsPaged": self.cps_paged, "cp": self.cp}}
