"""Vehicle frames: one per Fleet Telemetry message of topic `V` a vehicle sent, keyed by VIN,
from the `vehicle_messages` table (each message as stored, and acknowledged, by the ingest).

    {"vin": "5YJ3E7EB2NF000001", "created_at": "2026-01-01T12:00:00.250Z",
     "data": [{"key": "Soc", "value": 56.2},
              {"key": "Location", "value": {"latitude": 48.1374, "longitude": 11.5755}}]}

`key` is the field's name, `value` the decoded value (a location as latitude and longitude),
`created_at` when the vehicle recorded it (RFC 3339, UTC). Location-revealing fields
(`LOCATION_FIELDS`) go only to tokens with `vehicle_location`: consumers without it watch
`key(vin, located=False)`, whose frames leave those fields out (and which gets none for a
message of nothing else). A frame is encoded once per variant, once when both are the same.

The ingest's decoder is handed in (`frames_of(decode)`), so this package needs no protobuf.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import structlog
from typing_extensions import TypedDict

from voltgate.streams.hub import Hub
from voltgate.streams.store import Row
from voltgate.streams.tailer import Frames, Wants

TABLE = "vehicle_messages"
COLUMNS = ("vin", "topic", "created_at", "payload")
TOPIC = "V"  # vehicle data; `alerts`, `errors` and `connectivity` are not streamed here
LOCATION_FIELDS = frozenset(
    {
        "Location",
        "GpsHeading",
        "GpsState",
        "DestinationLocation",
        "DestinationName",
        "OriginLocation",
        "RouteLine",
        "MilesToArrival",
        "MinutesToArrival",
        "LocatedAtHome",
        "LocatedAtWork",
        "LocatedAtFavorite",
    }
)
_UNLOCATED = "/unlocated"

log = structlog.get_logger("voltgate.streams")


class Datum(TypedDict):
    key: str  # the field's name, e.g. Soc
    value: Any  # a number, string, boolean or null; a location {latitude, longitude}


class VehicleFrame(TypedDict):
    """One message of the vehicle stream (its OpenAPI schema)."""

    vin: str
    created_at: str  # RFC 3339, UTC
    data: list[Datum]


class Signal(Protocol):
    """A decoded datum (the ingest's `Signal(vin, field, at, value)` fits)."""

    @property
    def field(self) -> str: ...

    @property
    def value(self) -> Any: ...


Decode = Callable[[bytes], Sequence[Signal]]


def key(vin: str, located: bool) -> str:
    """The hub key a consumer of `vin` watches: all fields, or none revealing a location."""
    return vin if located else vin + _UNLOCATED


def _value(value: Any) -> Any:
    if type(value) is tuple:
        latitude, longitude = value
        return {"latitude": latitude, "longitude": longitude}
    return value


def _when(created_at: float) -> str:
    text = datetime.fromtimestamp(created_at, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _encode(vin: str, created_at: str, data: list[Datum]) -> str:
    frame: VehicleFrame = {"vin": vin, "created_at": created_at, "data": data}
    return orjson.dumps(frame).decode()


def encoded(
    vin: str, created_at: float, signals: Sequence[Signal], wants: Wants
) -> Iterator[tuple[str, str]]:
    """The frames of one message for the keys of `vin` someone watches."""
    full, partial = key(vin, True), key(vin, False)
    located, unlocated = wants(full), wants(partial)
    if not (located or unlocated):
        return
    data: list[Datum] = [{"key": s.field, "value": _value(s.value)} for s in signals]
    when = _when(created_at)
    text = _encode(vin, when, data) if data else None
    if located and text is not None:
        yield full, text
    if unlocated:
        kept = [d for d in data if d["key"] not in LOCATION_FIELDS]
        if len(kept) == len(data) and text is not None:
            yield partial, text
        elif kept:
            yield partial, _encode(vin, when, kept)


def publish(hub: Hub, vin: str, created_at: float, signals: Sequence[Signal]) -> None:
    """Publish one message's frames straight to `hub` (what the tailer does for each row)."""
    for found, text in encoded(vin, created_at, signals, hub.wants):
        hub.publish(found, text)


def frames_of(decode: Decode) -> Frames:
    """The tailer's `frames` for `vehicle_messages` rows, decoding payloads with `decode`
    (only those of a VIN someone watches)."""

    def frames(rows: Sequence[Row], wants: Wants) -> Iterator[tuple[str, str]]:
        for row_id, vin, topic, created_at, payload in rows:
            if topic != TOPIC or not (wants(vin) or wants(vin + _UNLOCATED)):
                continue
            try:
                signals = decode(bytes(payload))
            except Exception:
                log.warning("stream_payload_undecodable", vin=vin, row=row_id)
                continue
            yield from encoded(vin, float(created_at), signals, wants)

    return frames
