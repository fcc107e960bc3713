"""voltgate's REST vehicle commands as the protocol's application payloads, both ways.

`encode(name, body)` gives the domain and the payload bytes a signed command carries: a
`VCSEC.UnsignedMessage` (an RKE action) for the locks, remote start and wake, a
`CarServer.Action` (a `VehicleAction`) for the rest, built as teslamotors/vehicle-command's
pkg/vehicle builds them. `decode(domain, payload)` gives back the REST name and body that
`POST /api/1/vehicles/{vin}/command/{name}` takes, so a server can check OAuth scopes on the
plaintext and run the same command.

Decoded bodies are canonical: every field the REST body has, defaults explicit; times that
are off are left out; `days_of_week` is full day names (`Sunday,Thursday`); float fields are
the shortest decimal that gives the same 32-bit float the protobuf holds (`37.7749`, not
`37.77489852905273`). An action voltgate does not map is an UnsupportedCommand.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from google.protobuf.unknown_fields import UnknownFieldSet  # type: ignore[import-untyped]

from voltgate.sdk.vehicle_command.codes import Domain
from voltgate.sdk.vehicle_command.errors import CommandBodyError, PayloadError, UnsupportedCommand
from voltgate.sdk.vehicle_command.schema import Action, RKEAction, UnsignedMessage

Body = dict[str, Any]

_DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_DAYS = {
    **{name.lower(): 1 << bit for bit, name in enumerate(_DAY_NAMES)},
    **{name[:3].lower(): 1 << bit for bit, name in enumerate(_DAY_NAMES)},
    "tues": 4,
    "thur": 16,
    "thurs": 16,
    "weekdays": 62,
    "all": 127,
}
_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint64": (0, 2**64 - 1)}
_FLOAT32_MAX = 3.4028234663852886e38


# --- bodies -----------------------------------------------------------------------------------


def _value(command: str, key: str, kind: str, value: object) -> object:
    where = f"{command}: {key}"
    if kind == "bool":
        if not isinstance(value, bool):
            raise CommandBodyError(f"{where} must be true or false")
        return value
    if kind == "str":
        if not isinstance(value, str):
            raise CommandBodyError(f"{where} must be a string")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CommandBodyError(f"{where} must be a number")
    if kind == "float":
        if not math.isfinite(value) or abs(value) > _FLOAT32_MAX:
            raise CommandBodyError(f"{where} must be a finite 32-bit float")
        return float(value)
    if isinstance(value, float) and not value.is_integer():
        raise CommandBodyError(f"{where} must be a whole number")
    low, high = _RANGES[kind]
    if not low <= int(value) <= high:
        raise CommandBodyError(f"{where} is outside the {kind} range")
    return int(value)


def _fields(command: str, body: Mapping[str, Any], spec: Mapping[str, str]) -> Body:
    """`body` checked against `spec` (key → kind; a kind ending in `?` is optional and may be
    null). Unknown keys are refused, as the REST command layer refuses them."""
    if not isinstance(body, Mapping):
        raise CommandBodyError(f"{command}: the body must be a JSON object")
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise CommandBodyError(f"{command}: unknown field {unknown[0]!r}")
    out: Body = {}
    for key, kind in spec.items():
        value = body.get(key)
        if value is None:
            if not kind.endswith("?"):
                raise CommandBodyError(f"{command}: {key} is required")
            continue
        out[key] = _value(command, key, kind.rstrip("?"), value)
    return out


def days_mask(days: str) -> int:
    """`Thursday,Saturday` → 80 (bit 0 Sunday … bit 6 Saturday); `All`, `Weekdays` and three- or
    four-letter names in any case are accepted, as the proxy and voltgate accept them."""
    mask = 0
    for name in days.split(","):
        bit = _DAYS.get(name.strip().lower())
        if bit is None:
            raise CommandBodyError(f"add_charge_schedule: unknown day {name.strip()[:20]!r}")
        mask |= bit
    return mask


def day_names(mask: int) -> str:
    if not 0 < mask < 128:
        raise PayloadError(f"days_of_week mask {mask} names no day or more than seven")
    return ",".join(name for bit, name in enumerate(_DAY_NAMES) if mask & (1 << bit))


def float32(value: float) -> float:
    """The shortest decimal that is the same 32-bit float as `value`."""
    for digits in range(1, 10):
        short = float(f"{value:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", short))[0] == value:
            return short
    return value


# --- the command table ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Infotainment:
    spec: Mapping[str, str]
    fill: Callable[[Any, Body], None]  # sets the VehicleAction from the checked body


def _empty(member: str) -> _Infotainment:
    return _Infotainment({}, lambda action, _b: getattr(action, member).SetInParent())


def _scalar(member: str, field: str, key: str, kind: str) -> _Infotainment:
    """An action of one field, taken from body key `key`."""
    return _Infotainment(
        {key: kind}, lambda action, body: setattr(getattr(action, member), field, body[key])
    )


def _climate(on: bool) -> _Infotainment:
    def fill(action: Any, _body: Body) -> None:
        action.hvacAutoAction.SetInParent()
        action.hvacAutoAction.power_on = on

    return _Infotainment({}, fill)


def _charging(which: str) -> _Infotainment:
    return _Infotainment(
        {}, lambda action, _b: getattr(action.chargingStartStopAction, which).SetInParent()
    )


def _temps(action: Any, body: Body) -> None:
    adjust = action.hvacTemperatureAdjustmentAction
    adjust.driver_temp_celsius = body["driver_temp"]
    adjust.passenger_temp_celsius = body["passenger_temp"]
    adjust.level.TEMP_MAX.SetInParent()  # as pkg/vehicle's ChangeClimateTemp sends it


def _max_preconditioning(action: Any, body: Body) -> None:
    message = action.hvacSetPreconditioningMaxAction
    message.on = body["on"]
    message.manual_override = body.get("manual_override", False)


def _scheduled_charging(action: Any, body: Body) -> None:
    message = action.scheduledChargingAction
    message.enabled = body["enable"]
    message.charging_time = body.get("time", 0)


def _add_schedule(action: Any, body: Body) -> None:
    schedule = action.addChargeScheduleAction
    schedule.id = body.get("id", 0)  # 0: the vehicle numbers it, as REST does without an id
    schedule.days_of_week = days_mask(body["days_of_week"])
    for key in ("enabled", "start_enabled", "end_enabled", "one_time"):
        setattr(schedule, key, body.get(key, False))
    schedule.start_time = body.get("start_time", 0)
    schedule.end_time = body.get("end_time", 0)
    schedule.latitude = body["lat"]
    schedule.longitude = body["lon"]


_SCHEDULE = {
    "id": "uint64?",
    "days_of_week": "str",
    "enabled": "bool",
    "start_enabled": "bool",
    "start_time": "int32?",
    "end_enabled": "bool",
    "end_time": "int32?",
    "one_time": "bool?",
    "lat": "float",
    "lon": "float",
}

_VCSEC: dict[str, RKEAction] = {
    "door_lock": RKEAction.LOCK,
    "door_unlock": RKEAction.UNLOCK,
    "remote_start_drive": RKEAction.REMOTE_DRIVE,
    "wake_up": RKEAction.WAKE_VEHICLE,
}
_INFOTAINMENT: dict[str, _Infotainment] = {
    "honk_horn": _empty("vehicleControlHonkHornAction"),
    "flash_lights": _empty("vehicleControlFlashLightsAction"),
    "auto_conditioning_start": _climate(True),
    "auto_conditioning_stop": _climate(False),
    "set_temps": _Infotainment({"driver_temp": "float", "passenger_temp": "float"}, _temps),
    "set_preconditioning_max": _Infotainment(
        {"on": "bool", "manual_override": "bool?"}, _max_preconditioning
    ),
    "charge_start": _charging("start"),
    "charge_stop": _charging("stop"),
    "set_charge_limit": _scalar("chargingSetLimitAction", "percent", "percent", "int32"),
    "set_charging_amps": _scalar(
        "setChargingAmpsAction", "charging_amps", "charging_amps", "int32"
    ),
    "set_scheduled_charging": _Infotainment(
        {"enable": "bool", "time": "int32?"}, _scheduled_charging
    ),
    "charge_port_door_open": _empty("chargePortDoorOpen"),
    "charge_port_door_close": _empty("chargePortDoorClose"),
    "add_charge_schedule": _Infotainment(_SCHEDULE, _add_schedule),
    "remove_charge_schedule": _scalar("removeChargeScheduleAction", "id", "id", "uint64"),
}

COMMANDS: tuple[str, ...] = (*_VCSEC, *_INFOTAINMENT)


def domain_of(name: str) -> Domain:
    if name in _VCSEC:
        return Domain.VEHICLE_SECURITY
    if name in _INFOTAINMENT:
        return Domain.INFOTAINMENT
    raise UnsupportedCommand(f"{name[:60]!r} is not a command the vehicle protocol carries here")


def encode(name: str, body: Mapping[str, Any] | None = None) -> tuple[Domain, bytes]:
    """The domain and payload bytes of REST command `name` with `body`."""
    domain = domain_of(name)
    given = {} if body is None else body
    if domain == Domain.VEHICLE_SECURITY:
        _fields(name, given, {})
        return domain, UnsignedMessage(RKEAction=_VCSEC[name]).SerializeToString()
    command = _INFOTAINMENT[name]
    checked = _fields(name, given, command.spec)
    action = Action()
    command.fill(action.vehicleAction, checked)
    return domain, action.SerializeToString()


# --- decoding ---------------------------------------------------------------------------------


def _unknown(message: Any, what: str) -> UnsupportedCommand:
    numbers = sorted({field.field_number for field in UnknownFieldSet(message)})
    which = f" (field {', '.join(map(str, numbers))})" if numbers else ""
    return UnsupportedCommand(f"{what}{which} is not a command voltgate supports")


def _start_stop(message: Any) -> tuple[str, Body]:
    which = message.WhichOneof("charging_action")
    if which in ("start", "stop"):
        return f"charge_{which}", {}
    raise UnsupportedCommand(f"chargingStartStopAction {which or 'unset'} is not supported")


def _schedule(message: Any) -> tuple[str, Body]:
    body: Body = {
        "days_of_week": day_names(message.days_of_week),
        "enabled": message.enabled,
        "start_enabled": message.start_enabled,
        "end_enabled": message.end_enabled,
        "one_time": message.one_time,
        "lat": float32(message.latitude),
        "lon": float32(message.longitude),
    }
    if message.id:
        body["id"] = message.id
    for end in ("start", "end"):
        minutes = getattr(message, f"{end}_time")
        if minutes or body[f"{end}_enabled"]:
            body[f"{end}_time"] = minutes
    return "add_charge_schedule", body


def _scheduled(message: Any) -> tuple[str, Body]:
    body: Body = {"enable": message.enabled}
    if message.enabled or message.charging_time:
        body["time"] = message.charging_time
    return "set_scheduled_charging", body


_READERS: dict[str, Callable[[Any], tuple[str, Body]]] = {
    "vehicleControlHonkHornAction": lambda _m: ("honk_horn", {}),
    "vehicleControlFlashLightsAction": lambda _m: ("flash_lights", {}),
    "hvacAutoAction": lambda m: (f"auto_conditioning_{'start' if m.power_on else 'stop'}", {}),
    "hvacTemperatureAdjustmentAction": lambda m: (
        "set_temps",
        {
            "driver_temp": float32(m.driver_temp_celsius),
            "passenger_temp": float32(m.passenger_temp_celsius),
        },
    ),
    "hvacSetPreconditioningMaxAction": lambda m: (
        "set_preconditioning_max",
        {"on": m.on, "manual_override": m.manual_override},
    ),
    "chargingStartStopAction": _start_stop,
    "chargingSetLimitAction": lambda m: ("set_charge_limit", {"percent": m.percent}),
    "setChargingAmpsAction": lambda m: ("set_charging_amps", {"charging_amps": m.charging_amps}),
    "scheduledChargingAction": _scheduled,
    "chargePortDoorOpen": lambda _m: ("charge_port_door_open", {}),
    "chargePortDoorClose": lambda _m: ("charge_port_door_close", {}),
    "addChargeScheduleAction": _schedule,
    "removeChargeScheduleAction": lambda m: ("remove_charge_schedule", {"id": m.id}),
}
_RKE_NAMES = {action: name for name, action in _VCSEC.items()}


def _parse(kind: Any, payload: bytes) -> Any:
    message = kind()
    try:
        message.ParseFromString(bytes(payload))
    except (DecodeError, TypeError, ValueError) as exc:
        raise PayloadError(f"the payload is not a {kind.DESCRIPTOR.full_name}: {exc}") from None
    return message


def decode(domain: Domain | int, payload: bytes) -> tuple[str, Body]:
    """The REST command name and canonical body of a command payload for `domain`."""
    if domain == Domain.VEHICLE_SECURITY:
        unsigned = _parse(UnsignedMessage, payload)
        if unsigned.WhichOneof("sub_message") != "RKEAction":
            raise _unknown(unsigned, "this VCSEC message")
        name = _RKE_NAMES.get(unsigned.RKEAction)
        if name is None:
            raise UnsupportedCommand(f"RKE action {unsigned.RKEAction} is not supported")
        return name, {}
    if domain == Domain.INFOTAINMENT:
        action = _parse(Action, payload)
        if not action.HasField("vehicleAction"):
            raise _unknown(action, "this infotainment action")
        vehicle_action = action.vehicleAction
        which = vehicle_action.WhichOneof("vehicle_action_msg")
        if which is None:
            raise _unknown(vehicle_action, "this vehicle action")
        return _READERS[which](getattr(vehicle_action, which))
    raise UnsupportedCommand(f"domain {int(domain)} carries no command voltgate supports")
