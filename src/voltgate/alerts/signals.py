"""What the evaluator is fed: one value of one field of one subject at one moment.

A subject is a vehicle's VIN, or a charger connector as `<device_id>:<connector>`. Vehicle fields
are Fleet Telemetry's field names (`Soc`, `BatteryLevel`, `ChargeState` …); a charger connector's
are the names of the Tellus frame (`state`, `power`, `energy_delivered`, `soc`) plus `voltage`
and `current`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from voltgate.telemetry.store import Reading

Value = float | int | str | bool | tuple[float, float] | None


class Signal(NamedTuple):
    subject: str  # a VIN, or "<device_id>:<connector>"
    field: str
    at: float  # Unix seconds, when the value was measured
    value: Value


VEHICLES = "vehicles"
CHARGERS = "chargers"
TARGETS = (VEHICLES, CHARGERS)

# The fields that say whether the subject is charging, and what "charging" is in them.
VEHICLE_CHARGE_FIELDS = frozenset({"ChargeState", "DetailedChargeState"})
CHARGER_STATE = "state"
_CHARGING = frozenset({"charging", "chargestatecharging", "detailedchargestatecharging"})

CHARGER_FIELDS = frozenset({"state", "power", "energy_delivered", "soc", "voltage", "current"})
CHARGER_NUMBERS = CHARGER_FIELDS - {CHARGER_STATE}


def target_of(subject: str) -> str:
    """Chargers' subjects name a connector after a ':'; a VIN never has one."""
    return CHARGERS if ":" in subject else VEHICLES


def device_of(subject: str) -> str:
    return subject.partition(":")[0]


def is_charging(value: Value) -> bool:
    """`Charging` (Fleet Telemetry's ChargeState), `DetailedChargeStateCharging` (its enum),
    `charging` (a connector's state)."""
    if not isinstance(value, str):
        return False
    return value.replace("_", "").lower() in _CHARGING


def number(value: Value) -> float | None:
    """A numeric value, or None (strings, locations, nulls, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    as_float = float(value)
    return None if as_float != as_float else as_float


def from_readings(readings: Iterable[Reading]) -> list[Signal]:
    """A charger's committed readings as signals, one per field with a value."""
    out: list[Signal] = []
    append = out.append
    for r in readings:
        subject = f"{r.device_id}:{r.connector}"
        at = r.at
        append(Signal(subject, "state", at, r.state))
        append(Signal(subject, "power", at, r.power_kw))
        append(Signal(subject, "energy_delivered", at, r.energy_kwh))
        if r.soc is not None:
            append(Signal(subject, "soc", at, r.soc))
        if r.voltage is not None:
            append(Signal(subject, "voltage", at, r.voltage))
        if r.current is not None:
            append(Signal(subject, "current", at, r.current))
    return out


def in_order(signals: Sequence[Signal]) -> dict[str, list[Signal]]:
    """Each subject's signals by time; at one moment the charging state comes last, so a
    decision it triggers sees the values sent with it (a payload's Soc beside its ChargeState)."""
    by_subject: dict[str, list[Signal]] = {}
    for signal in signals:
        by_subject.setdefault(signal.subject, []).append(signal)
    for subject, held in by_subject.items():
        if len(held) > 1:
            held.sort(key=_order)
            by_subject[subject] = held
    return by_subject


def _order(signal: Signal) -> tuple[float, bool]:
    return (signal.at, signal.field in VEHICLE_CHARGE_FIELDS or signal.field == CHARGER_STATE)
