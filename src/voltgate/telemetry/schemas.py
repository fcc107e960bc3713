"""Request bodies and response views of the telemetry API.

`POST /v1/device/telemetry` arrives about every 5 s from every charger, so its body is checked by
hand on the decoded JSON (a few µs) rather than through a pydantic model (~2 µs per field set
plus the model); the rules are the ones `TelemetryBody` documents in the OpenAPI. Events are
rare and use pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import TypedDict

from voltgate.devices.schemas import (
    CONNECTOR_TYPES,
    MAX_CONNECTOR_KW,
    ConnectorType,
    check_named,
)
from voltgate.devices.store import MAX_CONNECTORS, Connector
from voltgate.errors import ValidationFailed
from voltgate.telemetry.store import STATES, Bucket, Event, Reading

MAX_EVENTS = 100
# A charger may report power a little above its connector's rating (meter tolerance).
POWER_TOLERANCE = 1.1
# A charger's clock may run ahead this much; readings it buffered while offline may be old.
MAX_FUTURE = 300.0
MAX_AGE = 7 * 86_400.0
MAX_VOLTAGE = 2_000.0
MAX_CURRENT = 2_000.0

State = Literal[
    "available",
    "preparing",
    "charging",
    "discharging",
    "suspended",
    "finishing",
    "faulted",
    "unavailable",
]
EventType = Literal[
    "fault",
    "fault_cleared",
    "plug_in",
    "plug_out",
    "session_started",
    "session_stopped",
    "boot",
    "firmware_updated",
    "power_loss",
    "warning",
]


class ConnectorReading(BaseModel):
    model_config = ConfigDict(extra="forbid")

    connector: int = Field(
        ge=1,
        le=MAX_CONNECTORS,
        description="a connector of this charger: one it was registered with, or (registered "
        "without connectors) any number it reports, which it then has",
    )
    state: State
    power_kw: float = Field(
        description="≥ 0, at most 1.1 x the connector's max_power_kw; ≤ 0 only when discharging"
    )
    energy_kwh: float = Field(ge=0, description="energy moved in the current session")
    soc: float | None = Field(default=None, ge=0, le=100)
    voltage: float | None = Field(default=None, ge=0, le=MAX_VOLTAGE)
    current: float | None = Field(default=None, ge=-MAX_CURRENT, le=MAX_CURRENT)
    type: ConnectorType | None = Field(
        default=None, description="the connector's type (learned; a registered one keeps its own)"
    )
    max_power_kw: float | None = Field(
        default=None, gt=0, le=MAX_CONNECTOR_KW, description="the connector's maximum (learned)"
    )


class TelemetryBody(BaseModel):
    """`POST /v1/device/telemetry` (documentation; the route validates by hand, see above)."""

    model_config = ConfigDict(extra="forbid")

    timestamp: float | datetime | None = Field(
        default=None, description="Unix seconds or RFC 3339; default: when it arrives"
    )
    connectors: list[ConnectorReading] = Field(min_length=1, max_length=MAX_CONNECTORS)


def _when(value: Any, now: float, where: str) -> float:
    """A timestamp as Unix seconds: a JSON number, or an RFC 3339 string (UTC if no offset)."""
    if type(value) is int or type(value) is float:
        at = float(value)
    elif type(value) is str and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(f"{where}: not an RFC 3339 date-time") from None
        at = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    else:
        raise ValidationFailed(f"{where}: Unix seconds or an RFC 3339 date-time is required")
    return _bounded(at, now, where)


def _bounded(at: float, now: float, where: str) -> float:
    if at > now + MAX_FUTURE:
        raise ValidationFailed(f"{where}: {int(at - now)} s in the future")
    if at < now - MAX_AGE:
        raise ValidationFailed(f"{where}: older than {int(MAX_AGE // 86_400)} days")
    return at


def _number(item: dict[str, Any], name: str, where: str, low: float, high: float) -> float | None:
    value = item.get(name)
    if value is None:
        return None
    if type(value) is not float and type(value) is not int:  # bool is not a number here
        raise ValidationFailed(f"{where}.{name}: a number is required")
    if not low <= value <= high:
        raise ValidationFailed(f"{where}.{name}: must be between {low:g} and {high:g}")
    return float(value)


_BODY_FIELDS = frozenset(TelemetryBody.model_fields)
_READING_FIELDS = frozenset(ConnectorReading.model_fields)


def _known(item: dict[str, Any], fields: frozenset[str], where: str) -> None:
    """Unknown fields are refused (a misspelt `soc` is not silently dropped)."""
    if not fields.issuperset(item):
        name = min(set(item) - fields)
        raise ValidationFailed(f"{where}{name[:64]}: Extra inputs are not permitted")


def readings(
    payload: Any,
    device_id: str,
    ports: Mapping[int, float],
    now: float,
    told: list[Connector] | None = None,
) -> list[Reading]:
    """The readings of one telemetry body, all checked; ValidationFailed names the first fault.

    `ports` maps the charger's connector numbers to their max power (kW). `told` is given for
    a charger that learns its connectors: any number 1..16 is then accepted, and each item's
    connector (number, and type and power if it says) is added to it.
    """
    if type(payload) is not dict:
        raise ValidationFailed("the body must be a JSON object")
    _known(payload, _BODY_FIELDS, "")
    items = payload.get("connectors")
    if type(items) is not list or not items:
        raise ValidationFailed("connectors: a non-empty list is required")
    if len(items) > MAX_CONNECTORS:
        raise ValidationFailed(f"connectors: at most {MAX_CONNECTORS}")
    stamp = payload.get("timestamp")
    at = now if stamp is None else _when(stamp, now, "timestamp")
    found: list[Reading] = []
    seen: set[int] = set()
    for index, item in enumerate(items):
        where = f"connectors.{index}"
        if type(item) is not dict:
            raise ValidationFailed(f"{where}: an object is required")
        _known(item, _READING_FIELDS, f"{where}.")
        number = item.get("connector")
        if type(number) is not int:
            raise ValidationFailed(f"{where}.connector: an integer is required")
        rating = ports.get(number)
        if rating is None:  # refused unless the charger learns it; bounded by the largest
            check_named(number, ports, told is not None, f"{where}.connector")
            rating = MAX_CONNECTOR_KW
        kind, rated = item.get("type"), item.get("max_power_kw")
        if kind is not None or rated is not None:
            kind, rated = _port(kind, rated, where)
            if rated is not None and told is not None:
                rating = rated  # the charger's own word on the connector it learns
        if told is not None:
            told.append(Connector(number, kind, rated))
        if number in seen:
            raise ValidationFailed(f"{where}.connector: connector {number} appears twice")
        seen.add(number)
        state = item.get("state")
        if type(state) is not str or state not in STATES:
            raise ValidationFailed(f"{where}.state: one of {', '.join(sorted(STATES))}")
        top = rating * POWER_TOLERANCE
        # Power flows from the vehicle only while discharging (V2G).
        low, high = (-top, 0.0) if state == "discharging" else (0.0, top)
        power = _number(item, "power_kw", where, low, high)
        energy = _number(item, "energy_kwh", where, 0.0, 1e9)
        if power is None or energy is None:
            missing = "power_kw" if power is None else "energy_kwh"
            raise ValidationFailed(f"{where}.{missing}: a number is required")
        found.append(
            Reading(
                device_id,
                number,
                at,
                now,
                state,
                power,
                energy,
                _number(item, "soc", where, 0.0, 100.0),
                _number(item, "voltage", where, 0.0, MAX_VOLTAGE),
                _number(item, "current", where, -MAX_CURRENT, MAX_CURRENT),
            )
        )
    return found


def _port(kind: Any, rated: Any, where: str) -> tuple[str | None, float | None]:
    """A reading's connector `type` and `max_power_kw`, checked (each may be left out)."""
    if kind is not None and (type(kind) is not str or kind not in CONNECTOR_TYPES):
        raise ValidationFailed(f"{where}.type: one of {', '.join(sorted(CONNECTOR_TYPES))}")
    if rated is None:
        return kind, None
    if type(rated) is not float and type(rated) is not int:
        raise ValidationFailed(f"{where}.max_power_kw: a number is required")
    if not 0 < rated <= MAX_CONNECTOR_KW:
        raise ValidationFailed(f"{where}.max_power_kw: above 0, at most {MAX_CONNECTOR_KW:g}")
    return kind, float(rated)


Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Message = Annotated[str, StringConstraints(max_length=500)]


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: EventType
    connector: int | None = Field(default=None, ge=1)
    code: Code | None = None
    message: Message | None = None
    at: datetime | None = Field(default=None, description="Unix seconds or RFC 3339")


class EventBatch(BaseModel):
    """`POST /v1/device/events`."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, max_length=MAX_EVENTS)


def events(
    batch: EventBatch, device_id: str, ports: Mapping[int, float], now: float, learns: bool
) -> list[Event]:
    found = []
    for index, item in enumerate(batch.events):
        where = f"events.{index}"
        if item.connector is not None and item.connector not in ports:
            check_named(item.connector, ports, learns, f"{where}.connector")
        at = now if item.at is None else _bounded(_aware(item.at).timestamp(), now, f"{where}.at")
        found.append(Event(device_id, item.connector, item.type, item.code, item.message, at, now))
    return found


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class BucketView(TypedDict):
    start: int
    count: int
    avg: float
    min: float
    max: float
    last: float


class ReadingView(TypedDict):
    connector: int
    state: str
    power_kw: float
    energy_kwh: float
    soc: float | None
    voltage: float | None
    current: float | None
    at: float


class EventView(TypedDict):
    type: str
    connector: int | None
    code: str | None
    message: str | None
    at: float
    received_at: float


def bucket_view(bucket: Bucket) -> BucketView:
    return {
        "start": bucket.start,
        "count": bucket.count,
        "avg": bucket.sum / bucket.count,
        "min": bucket.min,
        "max": bucket.max,
        "last": bucket.last,
    }


def reading_view(reading: Reading) -> ReadingView:
    return {
        "connector": reading.connector,
        "state": reading.state,
        "power_kw": reading.power_kw,
        "energy_kwh": reading.energy_kwh,
        "soc": reading.soc,
        "voltage": reading.voltage,
        "current": reading.current,
        "at": reading.at,
    }


def event_view(event: Event) -> EventView:
    return {
        "type": event.type,
        "connector": event.connector,
        "code": event.code,
        "message": event.message,
        "at": event.at,
        "received_at": event.received_at,
    }
