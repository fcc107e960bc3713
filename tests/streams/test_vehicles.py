"""Vehicle frames: one per stored `V` message of a watched VIN, with location-revealing fields
only for consumers that may see them; an undecodable payload is skipped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import orjson

from voltgate.streams import vehicles
from voltgate.streams.hub import Hub

VIN = "5YJ3E7EB2NF000001"


class Signal(NamedTuple):
    vin: str
    field: str
    at: float
    value: Any


def _decode(payload: bytes) -> Sequence[Signal]:
    if payload == b"garbage":
        raise ValueError("not protobuf")
    return [Signal(VIN, name, 0.0, value) for name, value in orjson.loads(payload)]


def _frames(rows: list[tuple[Any, ...]], watched: set[str]) -> list[tuple[str, dict[str, Any]]]:
    made = vehicles.frames_of(_decode)(rows, watched.__contains__)
    return [(key, orjson.loads(text)) for key, text in made]


def _row(row_id: int, topic: str, signals: list[Any], vin: str = VIN) -> tuple[Any, ...]:
    return (row_id, vin, topic, 1767268800.25, orjson.dumps(signals))


def test_located_consumers_get_every_field_and_others_none_revealing_a_location() -> None:
    rows = [_row(1, "V", [["Soc", 56.5], ["Location", [48.1374, 11.5755]]])]
    located, unlocated = vehicles.key(VIN, True), vehicles.key(VIN, False)
    found = _frames(rows, {located, unlocated})
    assert found == [
        (
            located,
            {
                "vin": VIN,
                "created_at": "2026-01-01T12:00:00.250Z",
                "data": [
                    {"key": "Soc", "value": 56.5},
                    {"key": "Location", "value": [48.1374, 11.5755]},
                ],
            },
        ),
        (
            unlocated,
            {
                "vin": VIN,
                "created_at": "2026-01-01T12:00:00.250Z",
                "data": [{"key": "Soc", "value": 56.5}],
            },
        ),
    ]


async def test_a_location_value_is_latitude_and_longitude() -> None:
    hub = Hub(limit=4)
    consumer = hub.subscribe([vehicles.key(VIN, True)])
    vehicles.publish(hub, VIN, 1767268800.0, [Signal(VIN, "Location", 0.0, (48.1, 11.5))])
    text = await consumer.next()
    assert text is not None
    assert orjson.loads(text)["data"] == [
        {"key": "Location", "value": {"latitude": 48.1, "longitude": 11.5}}
    ]


def test_unwatched_vins_other_topics_and_bad_payloads_make_no_frame() -> None:
    rows = [
        _row(1, "V", [["Soc", 50]], vin="5YJ3E7EB2NF000002"),
        _row(2, "alerts", [["Soc", 50]]),
        (3, VIN, "V", 1767268800.0, b"garbage"),
        _row(4, "V", [["Location", [1.0, 2.0]]]),  # nothing left without the location
    ]
    assert _frames(rows, {vehicles.key(VIN, False)}) == []
