"""Fleet Telemetry's protobuf messages, built at import from descriptors written here (no protoc).

Field numbers and types are those of teslamotors/fleet-telemetry's protos/vehicle_data.proto,
vehicle_alert.proto, vehicle_error.proto and vehicle_connectivity.proto, so the bytes are the
published ones; the packages are voltgate's own (one per published file, as there, because the
files' enums share value names such as `Unknown`). Timestamps are google.protobuf.Timestamp, as
published. `signals()` decodes a `V` payload into (field name, Python value) pairs and
`payload()` builds one, as the simulated vehicles do.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from google.protobuf import (  # type: ignore[import-untyped]
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    timestamp_pb2,
)
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from voltgate.fleettelemetry.field_numbers import FIELD_NUMBERS
from voltgate.fleettelemetry.schema import (
    ENUM_MEMBERS,
    MESSAGE_MEMBERS,
    SCALAR_MEMBERS,
    TYPED_FIELDS,
    VALUE_MESSAGES,
)

PACKAGE = "voltgate.telemetry.v1"

_F = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _F.TYPE_STRING,
    "int32": _F.TYPE_INT32,
    "int64": _F.TYPE_INT64,
    "float": _F.TYPE_FLOAT,
    "double": _F.TYPE_DOUBLE,
    "bool": _F.TYPE_BOOL,
}
_TIMESTAMP = "." + timestamp_pb2.Timestamp.DESCRIPTOR.full_name


class _File:
    """One .proto file's descriptor, written in code; `build()` adds it to the default pool."""

    def __init__(self, name: str) -> None:
        self.package = f"{PACKAGE}.{name}"
        self.proto = descriptor_pb2.FileDescriptorProto(
            name=f"voltgate/telemetry/v1/{name}.proto",
            package=self.package,
            syntax="proto3",
            dependency=[timestamp_pb2.DESCRIPTOR.name],
        )
        self._enums: set[str] = set()

    def enum(self, name: str, values: Iterable[tuple[str, int]]) -> None:
        enum = self.proto.enum_type.add(name=name)
        for value_name, number in values:
            enum.value.add(name=value_name, number=number)
        self._enums.add(name)

    def message(self, name: str, fields: Iterable[tuple[str, int, str]], oneof: str = "") -> Any:
        """A message of (name, number, type) fields; a type "repeated X" is a repeated X, and
        every field is in the oneof when one is named."""
        message = self.proto.message_type.add(name=name)
        if oneof:
            message.oneof_decl.add(name=oneof)
        for field_name, number, kind in fields:
            repeated = kind.startswith("repeated ")
            field = message.field.add(
                name=field_name,
                number=number,
                label=_F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL,
            )
            self._type(field, kind.removeprefix("repeated "))
            if oneof:
                field.oneof_index = 0
        return message

    def _type(self, field: Any, kind: str) -> None:
        if kind in _SCALARS:
            field.type = _SCALARS[kind]
        elif kind == "Timestamp":
            field.type, field.type_name = _F.TYPE_MESSAGE, _TIMESTAMP
        elif kind in self._enums:
            field.type, field.type_name = _F.TYPE_ENUM, f".{self.package}.{kind}"
        else:
            field.type, field.type_name = _F.TYPE_MESSAGE, f".{self.package}.{kind}"

    def build(self) -> dict[str, Any]:
        """Every top-level message class of the file, by name."""
        pool = descriptor_pool.Default()
        pool.Add(self.proto)
        return {
            m.name: message_factory.GetMessageClass(
                pool.FindMessageTypeByName(f"{self.package}.{m.name}")
            )
            for m in self.proto.message_type
        }


def enum_names(prefix: str, endings: str) -> tuple[str, ...]:
    """A published Value enum's names in number order (see schema.py)."""
    return tuple(prefix + ending for ending in endings.split())


def _vehicle_data() -> dict[str, Any]:
    data = _File("vehicle_data")
    data.enum("Field", FIELD_NUMBERS)
    for _member, _number, enum, prefix, endings in ENUM_MEMBERS:
        data.enum(enum, ((name, n) for n, name in enumerate(enum_names(prefix, endings))))
    for name, fields in VALUE_MESSAGES:
        data.message(name, fields)
    members = [*SCALAR_MEMBERS, *MESSAGE_MEMBERS, *((m, n, e) for m, n, e, *_ in ENUM_MEMBERS)]
    data.message("Value", sorted(members, key=lambda member: member[1]), oneof="value")
    data.message("Datum", (("key", 1, "Field"), ("value", 2, "Value")))
    data.message(
        "Payload",
        (
            ("data", 1, "repeated Datum"),
            ("created_at", 2, "Timestamp"),
            ("vin", 3, "string"),
            ("is_resend", 4, "bool"),
        ),
    )
    return data.build()


def _vehicle_alerts() -> dict[str, Any]:
    alerts = _File("vehicle_alerts")
    alerts.enum("Audience", (("Unknown", 0), ("Customer", 1), ("Service", 2), ("ServiceFix", 3)))
    alerts.message(
        "VehicleAlert",
        (
            ("name", 1, "string"),
            ("audiences", 2, "repeated Audience"),
            ("started_at", 3, "Timestamp"),
            ("ended_at", 4, "Timestamp"),
        ),
    )
    alerts.message(
        "VehicleAlerts",
        (
            ("alerts", 1, "repeated VehicleAlert"),
            ("created_at", 2, "Timestamp"),
            ("vin", 3, "string"),
        ),
    )
    return alerts.build()


def _vehicle_errors() -> dict[str, Any]:
    errors = _File("vehicle_error")
    error = errors.message(
        "VehicleError",
        (
            ("created_at", 1, "Timestamp"),
            ("name", 2, "string"),
            ("tags", 3, "repeated VehicleError.TagsEntry"),
            ("body", 4, "string"),
        ),
    )
    # map<string, string> tags = 3: a repeated nested entry message flagged as a map entry.
    entry = error.nested_type.add(name="TagsEntry")
    entry.options.map_entry = True
    for name, number in (("key", 1), ("value", 2)):
        entry.field.add(name=name, number=number, label=_F.LABEL_OPTIONAL, type=_F.TYPE_STRING)
    errors.message(
        "VehicleErrors",
        (
            ("errors", 1, "repeated VehicleError"),
            ("created_at", 2, "Timestamp"),
            ("vin", 3, "string"),
        ),
    )
    return errors.build()


def _vehicle_connectivity() -> dict[str, Any]:
    connectivity = _File("vehicle_connectivity")
    connectivity.enum("ConnectivityEvent", (("UNKNOWN", 0), ("CONNECTED", 1), ("DISCONNECTED", 2)))
    connectivity.message(
        "VehicleConnectivity",
        (
            ("vin", 1, "string"),
            ("connection_id", 2, "string"),
            ("status", 3, "ConnectivityEvent"),
            ("created_at", 4, "Timestamp"),
            ("network_interface", 5, "string"),
        ),
    )
    return connectivity.build()


_data = _vehicle_data()
Payload: Any = _data["Payload"]
Datum: Any = _data["Datum"]
Value: Any = _data["Value"]
LocationValue: Any = _data["LocationValue"]
Doors: Any = _data["Doors"]
Time: Any = _data["Time"]
TireLocation: Any = _data["TireLocation"]
_alerts = _vehicle_alerts()
VehicleAlerts: Any = _alerts["VehicleAlerts"]
VehicleAlert: Any = _alerts["VehicleAlert"]
_errors = _vehicle_errors()
VehicleErrors: Any = _errors["VehicleErrors"]
VehicleError: Any = _errors["VehicleError"]
VehicleConnectivity: Any = _vehicle_connectivity()["VehicleConnectivity"]

# The Field enum both ways, and the alert audiences and connectivity statuses by number.
FIELD_NUMBER: dict[str, int] = dict(FIELD_NUMBERS)
FIELD_NAME: dict[int, str] = {number: name for name, number in FIELD_NUMBERS}
AUDIENCE_UNKNOWN, AUDIENCE_CUSTOMER, AUDIENCE_SERVICE, AUDIENCE_SERVICE_FIX = range(4)
CONNECTIVITY_UNKNOWN, CONNECTED, DISCONNECTED = range(3)

SignalValue = float | int | str | bool | tuple[float, float] | None


class MalformedPayload(ValueError):
    """The bytes are not a Fleet Telemetry `Payload`."""


_ENUM_NAMES: dict[str, tuple[str, ...]] = {
    member: enum_names(prefix, endings) for member, _n, _e, prefix, endings in ENUM_MEMBERS
}
_ENUM_PREFIX: dict[str, str] = {member: prefix for member, _n, _e, prefix, _ in ENUM_MEMBERS}


def _enum_reader(member: str, names: tuple[str, ...]) -> Callable[[Any], SignalValue]:
    def read(value: Any) -> SignalValue:
        number: int = getattr(value, member)
        # A number newer than the published file stays a number.
        return names[number] if 0 <= number < len(names) else number

    return read


def _set_flags(message: Any) -> str:
    return ",".join(field.name for field, on in message.ListFields() if on)


def _time(value: Any) -> str:
    t = value.time_value
    return f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"


# How each Value member becomes a Python value: a scalar is itself, a location (latitude,
# longitude), an enum its published name, Doors and TireLocation the names of the flags that are
# set ("DriverFront,TrunkRear"), a Time "HH:MM:SS"; `invalid` and no member at all are None.
_READERS: dict[str | None, Callable[[Any], SignalValue]] = {
    None: lambda v: None,
    **{member: operator.attrgetter(member) for member, _n, _t in SCALAR_MEMBERS},
    "invalid": lambda v: None,
    "location_value": lambda v: (v.location_value.latitude, v.location_value.longitude),
    "door_value": lambda v: _set_flags(v.door_value),
    "tire_location_value": lambda v: _set_flags(v.tire_location_value),
    "time_value": _time,
    **{member: _enum_reader(member, names) for member, names in _ENUM_NAMES.items()},
}


# A location sent as a string by a vehicle without `prefer_typed`: "(37.412374 N, 122.145867 W)".
_LOCATION_TEXT = re.compile(r"\(\s*(\d+(?:\.\d*)?)\s*([NS])\s*,\s*(\d+(?:\.\d*)?)\s*([EW])\s*\)")


def _location(text: str) -> SignalValue:
    match = _LOCATION_TEXT.fullmatch(text.strip())
    if match is None:
        return text
    latitude, north_south, longitude, east_west = match.groups()
    sign_lat = -1.0 if north_south == "S" else 1.0
    sign_lon = -1.0 if east_west == "W" else 1.0
    return (sign_lat * float(latitude), sign_lon * float(longitude))


def signals(data: bytes) -> tuple[str, float, list[tuple[str, SignalValue]]]:
    """(vin, created_at in unix seconds (0.0 when absent), [(Field name, value)]) of a `V`
    payload. A field number newer than the published file is named "Field<number>". A Location
    sent as text is read as (lat, lon) when it parses, as the published server does."""
    message = Payload()
    try:
        message.ParseFromString(bytes(data))
    except (DecodeError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"not a vehicle data payload: {exc}") from None
    found: list[tuple[str, SignalValue]] = []
    add = found.append
    for datum in message.data:
        value = datum.value
        key: int = datum.key
        add((FIELD_NAME.get(key) or f"Field{key}", _READERS[value.WhichOneof("value")](value)))
    for index, (name, found_value) in enumerate(found):
        if name == "Location":  # only the first one, as in the published server
            if isinstance(found_value, str):
                found[index] = (name, _location(found_value))
            break
    at = message.created_at
    return message.vin, at.seconds + at.nanos / 1e9, found


def _member_for(field: str, value: object) -> str:
    member = TYPED_FIELDS.get(field)
    if isinstance(value, str) and member not in _ENUM_NAMES:
        return "string_value"  # as a vehicle without `prefer_typed` sends every field
    if member is not None:
        return member
    if isinstance(value, bool):
        return "boolean_value"
    if isinstance(value, str):
        return "string_value"
    if isinstance(value, tuple):
        return "location_value"
    return "double_value"


def _enum_number(member: str, value: object) -> int:
    names = _ENUM_NAMES[member]
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        for name in (value, _ENUM_PREFIX[member] + value):
            if name in names:
                return names.index(name)
    raise ValueError(f"{value!r} is not one of {', '.join(names)}")


def _put(target: Any, field: str, value: object) -> None:
    if value is None:
        target.invalid = True
        return
    member = _member_for(field, value)
    if member == "location_value":
        latitude, longitude = cast(tuple[float, float], value)
        target.location_value.latitude = float(latitude)
        target.location_value.longitude = float(longitude)
    elif member in _ENUM_NAMES:
        setattr(target, member, _enum_number(member, value))
    elif member == "double_value":
        target.double_value = float(value)  # type: ignore[arg-type]
    elif member == "int_value":
        target.int_value = int(value)  # type: ignore[call-overload]
    else:
        setattr(target, member, value)


def payload(
    vin: str,
    created_at: float,
    items: Sequence[tuple[str, object]],
    is_resend: bool = False,
) -> bytes:
    """A `V` payload of (Field name, value) items, each value in the member a vehicle with
    `prefer_typed` uses for that field (schema.TYPED_FIELDS), else by its Python type: bool →
    boolean, a (lat, lon) tuple → location, a number → double; None → invalid. A str is sent
    as a string, as vehicles without `prefer_typed` send everything, except to an enum field,
    which takes its published name ("DetailedChargeStateCharging"), the name's ending
    ("Charging") or its number."""
    message = Payload(vin=vin, is_resend=is_resend)
    seconds = math.floor(created_at)
    message.created_at.seconds = seconds
    message.created_at.nanos = min(round((created_at - seconds) * 1e9), 999_999_999)
    for field, value in items:
        number = FIELD_NUMBER.get(field)
        if number is None:
            raise ValueError(f"{field!r} is not a Fleet Telemetry field")
        try:
            _put(message.data.add(key=number).value, field, value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{field}: {exc}") from None
    return bytes(message.SerializeToString())
