"""A charge point as a row and back: its EVSEs as compact JSON (decoded only for the points a
search shows), the columns in `COLUMNS` order."""

from __future__ import annotations

from typing import Any

import orjson

from voltgate.chargepoints.store import ChargePoint, Evse, PointConnector
from voltgate.db.statements import Row

COLUMNS = (
    "c.id, c.name, c.address, c.city, c.postal_code, c.country, c.latitude, c.longitude, "
    "c.operator, c.opening_times, c.twentyfourseven, c.evses, c.device_id, c.site_id, "
    "c.operator_id, c.updated_at"
)
WIDTH = 16  # columns in COLUMNS


def evse_uid(point_id: str, position: int) -> str:
    return f"{point_id}-{position}"


def connector_id(point_id: str, position: int, number: int) -> str:
    """`<point id>-<EVSE position>-<connector number>`: unique, and names its point."""
    return f"{point_id}-{position}-{number}"


def point_of(connector: str) -> str:
    return connector.rsplit("-", 2)[0]


def evses_json(evses: tuple[Evse, ...]) -> bytes:
    return orjson.dumps(
        [
            [
                e.evse_id,
                e.status,
                [
                    [c.number, c.standard, c.format, c.power_type, c.max_electric_power]
                    for c in e.connectors
                ],
            ]
            for e in evses
        ]
    )


def evses_of(point_id: str, text: str | bytes) -> tuple[Evse, ...]:
    evses = []
    for position, (evse_id, status, ports) in enumerate(orjson.loads(text), 1):
        connectors = tuple(
            PointConnector(connector_id(point_id, position, n), n, std, fmt, kind, power)
            for n, std, fmt, kind, power in ports
        )
        evses.append(Evse(evse_uid(point_id, position), evse_id, status, connectors))
    return tuple(evses)


def point_of_row(row: Row, at: int = 0) -> ChargePoint:
    """The point whose COLUMNS start at `at` in the row."""
    point_id = row[at]
    return ChargePoint(
        id=point_id,
        name=row[at + 1],
        address=row[at + 2],
        city=row[at + 3],
        postal_code=row[at + 4],
        country=row[at + 5],
        latitude=row[at + 6],
        longitude=row[at + 7],
        operator=row[at + 8],
        opening_times=row[at + 9],
        twentyfourseven=bool(row[at + 10]),
        evses=evses_of(point_id, row[at + 11]),
        device_id=row[at + 12],
        site_id=row[at + 13],
        operator_id=row[at + 14],
        updated_at=row[at + 15],
    )


def values(point: ChargePoint) -> tuple[Any, ...]:
    """The row's values in the insert order of `INSERT_COLUMNS`."""
    return (
        point.id,
        point.name,
        point.address,
        point.city,
        point.postal_code,
        point.country,
        point.latitude,
        point.longitude,
        point.operator,
        point.opening_times,
        point.twentyfourseven,
        evses_json(point.evses).decode(),
        *point.masks,
        point.device_id,
        point.site_id,
        point.operator_id,
        point.updated_at,
    )


INSERT_COLUMNS = (
    "id",
    "name",
    "address",
    "city",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "operator",
    "opening_times",
    "twentyfourseven",
    "evses",
    "status_mask",
    "standard_mask",
    "max_power",
    "device_id",
    "site_id",
    "operator_id",
    "updated_at",
)
